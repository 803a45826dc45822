// One request that cannot move must not stop the scheduler for the others: a record mutation
// that cannot run is approved with EXECUTION_FAILED, and a transition that fails outright is
// logged once and retried, while every other due request moves in the same pass.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startScheduler } from '../src/approvals/scheduler.js'
import { createAgentWithToken, createRule, createUserWithToken, getRequest, ManualClock, requestApproval, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let server: TestServer
let carol: Principal, agent: Principal, editor: Principal

const CREATE = `mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id } } }`

beforeAll(async () => {
  server = await startServer({ clock })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'CRM agent' })
  editor = await createAgentWithToken(server, { name: "Carol's agent", ownerId: carol.id }) // may edit Carol's records
  const auto = { primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 60 } }
  await createRule(server, { name: 'Auto creates', resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', ...auto })
  await createRule(server, { name: 'Auto updates', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'deals', ...auto })
  await createRule(server, { name: 'Auto posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'auto', ...auto })
  await createRule(server, {
    name: 'Expiring posts',
    resourceType: 'AGENT_ACTION',
    actionType: 'post_to_social',
    module: 'expire',
    primaryResolver: { type: 'NAMED_USER', userId: carol.id },
    expiresAfterSeconds: 60,
  })
})
afterAll(() => server?.destroy())

const dbId = (globalId: string) => decodeGlobalID(globalId).id
const status = async (id: string) => (await getRequest(server, server.ownerToken, id)).data.approvalRequest

/** Record mutations are asked for with params that carry module / recordId too, as the API wants them. */
async function gated(input: Record<string, unknown>, by = agent): Promise<string> {
  const res = await requestApproval(server, by.token, { resourceType: 'RECORD_MUTATION', module: 'deals', ...input })
  expect(res.errors).toBeUndefined()
  expect(res.data.requestApproval.request.status).toBe('PENDING')
  return res.data.requestApproval.request.id
}
const gatedCreate = (data: object) => gated({ actionType: 'create_record', params: { module: 'deals', data } })
const gatedUpdate = (recordId: string, data: object) => gated({ actionType: 'update_record', recordId, params: { recordId, data } }, editor)

/** A record of Carol's, made directly (people are not gated). */
async function dealRecord(data: object): Promise<string> {
  const res = await server.gql(CREATE, { input: { module: 'deals', data } }, carol.token)
  expect(res.errors).toBeUndefined()
  return res.data.createRecord.record.id
}

async function post(module: 'auto' | 'expire'): Promise<string> {
  const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: module } })
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

/** Writes a request's row as a version without input validation might have left it. */
const corrupt = (id: string, data: { params?: object; module?: null }) => server.db.prisma.approvalRequest.update({ where: { id: dbId(id) }, data })

const types = (r: { events: { type: string }[] }) => r.events.map((e) => e.type)
const readRecord = async (id: string) => (await server.gql(`query($id: ID!) { record(id: $id) { data } }`, { id }, carol.token)).data.record

describe('scheduler isolation', () => {
  it('approves malformed record mutations with EXECUTION_FAILED, and moves every other due request in the same pass', async () => {
    const recordId = await dealRecord({ stage: 'lead' })
    const emptyParams = await gatedCreate({ name: 'Empty' })
    const noModule = await gatedCreate({ name: 'Nowhere' })
    const numberData = await gatedUpdate(recordId, { stage: 'won' })
    const badOwner = await gatedUpdate(recordId, { stage: 'lost' })
    await corrupt(emptyParams, { params: {} })
    await corrupt(noModule, { module: null })
    await corrupt(numberData, { params: { data: 5, ownerId: 12 } })
    await corrupt(badOwner, { params: { data: { stage: 'lost' }, ownerId: 12 } })
    const goodCreate = await gatedCreate({ name: 'Acme' })
    const goodPost = await post('auto')
    const expiring = await post('expire')
    const recordsBefore = await server.db.prisma.record.count()

    clock.advance(61)
    const changes = await server.app.scheduler.runOnce()
    expect(changes.autoApproved.sort()).toEqual([emptyParams, noModule, numberData, badOwner, goodCreate, goodPost].map(dbId).sort())
    expect(changes.expired).toEqual([dbId(expiring)])
    expect(changes.escalated).toEqual([])

    const reasons: [string, RegExp][] = [
      [emptyParams, /params\.data must be a JSON object/],
      [noModule, /names no module/],
      [numberData, /params\.data must be a JSON object/],
      [badOwner, /params\.ownerId must be a user's ID or null/],
    ]
    for (const [id, reason] of reasons) {
      const after = await status(id)
      expect(after.status).toBe('APPROVED')
      expect(types(after)).toEqual(['REQUESTED', 'APPROVED', 'EXECUTION_FAILED'])
      expect(after.events[2].comment).toMatch(reason)
      expect(after.record?.id ?? null).toBe(id === numberData || id === badOwner ? recordId : null)
    }
    // nothing of the malformed ones was written; the good one ran
    expect(await readRecord(recordId)).toEqual({ data: { stage: 'lead' } })
    expect(await server.db.prisma.record.count()).toBe(recordsBefore + 1)
    const created = await status(goodCreate)
    expect(types(created)).toEqual(['REQUESTED', 'APPROVED', 'EXECUTED'])
    expect(created.record.data).toEqual({ name: 'Acme' })
    expect(types(await status(goodPost))).toEqual(['REQUESTED', 'APPROVED'])
    expect((await status(expiring)).status).toBe('EXPIRED')

    // and the next pass has nothing left to do
    clock.advance(1)
    expect(await server.app.scheduler.runOnce()).toEqual({ expired: [], autoApproved: [], escalated: [], requeued: [], executionsFailed: [], returned: [] })
  })

  it('turns a write the database refuses into EXECUTION_FAILED instead of a failed pass', async () => {
    // a real constraint of the database, refusing some data at write time
    await server.db.prisma.$executeRawUnsafe(`ALTER TABLE "Record" ADD CONSTRAINT "test_no_forbidden" CHECK (NOT (data ? 'forbidden'))`)
    try {
      const recordId = await dealRecord({ stage: 'lead' })
      const refusedCreate = await gatedCreate({ forbidden: true })
      const refusedUpdate = await gatedUpdate(recordId, { forbidden: true })
      const goodUpdate = await gatedUpdate(recordId, { stage: 'won' })
      const recordsBefore = await server.db.prisma.record.count()

      clock.advance(61)
      const changes = await server.app.scheduler.runOnce()
      expect(changes.autoApproved.sort()).toEqual([refusedCreate, refusedUpdate, goodUpdate].map(dbId).sort())
      for (const id of [refusedCreate, refusedUpdate]) {
        const after = await status(id)
        expect(after.status).toBe('APPROVED')
        expect(types(after)).toEqual(['REQUESTED', 'APPROVED', 'EXECUTION_FAILED'])
        expect(after.events[2].comment).toMatch(/test_no_forbidden/)
      }
      expect((await status(refusedCreate)).record).toBeNull()
      expect(await server.db.prisma.record.count()).toBe(recordsBefore)
      // the update after the refused one ran, in the same pass
      expect(types(await status(goodUpdate))).toEqual(['REQUESTED', 'APPROVED', 'EXECUTED'])
      expect(await readRecord(recordId)).toEqual({ data: { stage: 'won' } })
    } finally {
      await server.db.prisma.$executeRawUnsafe(`ALTER TABLE "Record" DROP CONSTRAINT "test_no_forbidden"`)
    }
  })

  it('logs a request whose transition keeps failing once, not on every pass, and goes on with the others', async () => {
    const lines: { level: number; msg: string; requestId?: string; transition?: string; err?: { message: string } }[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    const scheduler = startScheduler({ prisma: server.db.prisma, clock, intervalMs: 0, log })
    const stuck = await post('expire')
    const other = await post('expire')
    const auto = await post('auto')
    // a real failure of the database: any update of this one request raises
    await server.db.prisma.$executeRawUnsafe(
      `CREATE FUNCTION test_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refusing to update %', OLD.id; END $$`,
    )
    await server.db.prisma.$executeRawUnsafe(
      `CREATE TRIGGER test_refuse_update BEFORE UPDATE ON "ApprovalRequest" FOR EACH ROW WHEN (OLD.id = '${dbId(stuck)}'::uuid) EXECUTE FUNCTION test_refuse_update()`,
    )
    try {
      clock.advance(61)
      expect(await scheduler.runOnce()).toEqual({ expired: [dbId(other)], autoApproved: [dbId(auto)], escalated: [], requeued: [], executionsFailed: [], returned: [] })
      for (let i = 0; i < 4; i++) {
        clock.advance(1)
        expect(await scheduler.runOnce()).toEqual({ expired: [], autoApproved: [], escalated: [], requeued: [], executionsFailed: [], returned: [] })
      }
      expect((await status(stuck)).status).toBe('PENDING')
      const errors = lines.filter((l) => l.level >= 50)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ requestId: dbId(stuck), transition: 'expire' })
      expect(errors[0]!.err?.message).toMatch(/refusing to update/)
    } finally {
      await server.db.prisma.$executeRawUnsafe(`DROP TRIGGER test_refuse_update ON "ApprovalRequest"`)
      await server.db.prisma.$executeRawUnsafe(`DROP FUNCTION test_refuse_update()`)
    }
    // once the database lets it, the next pass moves it
    clock.advance(1)
    expect((await scheduler.runOnce()).expired).toEqual([dbId(stuck)])
    expect((await status(stuck)).status).toBe('EXPIRED')
    expect(lines.filter((l) => l.level >= 50)).toHaveLength(1)
    await scheduler.stop()
  })
})
