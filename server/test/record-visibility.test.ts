// Who reads a module's records (ORG, the default, or PRIVATE), and who changes them: the owner
// (or an agent acting for them) and record:manage directly, anyone else only through a rule,
// which sends the change to a reviewer (the record's owner, under RECORD_OWNER) and runs it once
// approved. The seed's flow "an agent updates a deal, the deal's owner approves" end to end.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readMigrations } from '../src/migrations.js'
import { codes, createAgentWithToken, createRule, createUserWithToken, decide, freshDatabase, openAt, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
let server: TestServer
let admin: Principal, ann: Principal, ben: Principal, cat: Principal, mel: Principal, annsAgent: Principal, bensAgent: Principal

const CREATE = `mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id owner { id } } approvalRequest { id } } }`
const UPDATE = `mutation($id: ID!, $input: UpdateRecordInput!) {
  updateRecord(id: $id, input: $input) { record { id data owner { id } } approvalRequest { id status onBehalfOf { id } } } }`
const READ = `query($id: ID!) { record(id: $id) { data owner { id } } }`
const NODE = `query($id: ID!) { node(id: $id) { id } }`
const SETTINGS = `{ moduleSettings { module visibility } }`
const SET = `mutation($m: String!, $v: RecordVisibility!) { setModuleVisibility(module: $m, visibility: $v) { module visibility } }`
const REQUEST = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired request { id } } }`

// Ann and Ben are members; each has an agent that acts for them only. Cat is another member, Mel
// a manager (approval:view, not approval:manage), Admin holds approval:manage and record:manage.
beforeAll(async () => {
  server = await startServer()
  admin = await createUserWithToken(server, { email: 'admin@example.com', name: 'Admin', roleKeys: ['admin'] })
  ann = await createUserWithToken(server, { email: 'ann@example.com', name: 'Ann', roleKeys: ['member'] })
  ben = await createUserWithToken(server, { email: 'ben@example.com', name: 'Ben', roleKeys: ['member'] })
  cat = await createUserWithToken(server, { email: 'cat@example.com', name: 'Cat', roleKeys: ['member'] })
  mel = await createUserWithToken(server, { email: 'mel@example.com', name: 'Mel', roleKeys: ['manager'] })
  annsAgent = await createAgentWithToken(server, { name: "Ann's agent", ownerId: ann.id })
  bensAgent = await createAgentWithToken(server, { name: "Ben's agent", ownerId: ben.id })
  // the seed's resolver: an agent updates a deal, the deal's owner approves
  await createRule(server, { name: 'Deal edits: the owner', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'deals', primaryResolver: { type: 'RECORD_OWNER' } })
})
afterAll(() => server?.destroy())

async function create(token: string, module: string, data: Record<string, unknown>): Promise<string> {
  const res = await server.gql(CREATE, { input: { module, data } }, token)
  expect(res.errors).toBeUndefined()
  return res.data.createRecord.record.id
}
const read = async (id: string, token = ben.token) => (await server.gql(READ, { id }, token)).data.record
const requestCount = () => server.db.prisma.approvalRequest.count()
/** Who reviews a request, as an approval manager reads it (its requester is not shown how it is reviewed). */
const reviewersOf = async (id: string) => (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { reviewers { id } } }`, { id }, server.ownerToken)).data.approvalRequest.reviewers

describe('the record owner reviews changes to their records', () => {
  it("an agent acting for Ann updates Ben's deal: Ben reviews it, approves, and the server changes the deal", async () => {
    const deal = await create(ben.token, 'deals', { name: 'Acme', stage: 'lead', value: 100 })
    const res = await server.gql(UPDATE, { id: deal, input: { data: { stage: 'won' } } }, annsAgent.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.updateRecord.record).toBeNull()
    const request = res.data.updateRecord.approvalRequest
    expect(request).toMatchObject({ status: 'PENDING', onBehalfOf: { id: ann.id } })
    expect(await reviewersOf(request.id)).toEqual([{ id: ben.id }])
    expect(await read(deal)).toEqual({ data: { name: 'Acme', stage: 'lead', value: 100 }, owner: { id: ben.id } })

    // Ben finds it in his inbox, with what would change
    const inbox = await server.gql(`{ approvalInbox(first: 5) { edges { node { id recordChanges { field current proposed } } } } }`, {}, ben.token)
    expect(inbox.errors).toBeUndefined()
    expect(inbox.data.approvalInbox.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: request.id, recordChanges: [{ field: 'stage', current: 'lead', proposed: 'won' }] },
    ])
    // Ann may not decide her agent's request; Ben may
    expect(codes(await decide(server, ann.token, request.id, 'approveRequest'))).toEqual(['FORBIDDEN'])
    const approved = await decide(server, ben.token, request.id, 'approveRequest')
    expect(approved.data.approveRequest.status).toBe('APPROVED')
    expect(approved.data.approveRequest.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'APPROVED', 'EXECUTED'])
    expect(await read(deal)).toEqual({ data: { name: 'Acme', stage: 'won', value: 100 }, owner: { id: ben.id } })
  })

  it("a member proposing a change to someone else's record goes through the rule too: the owner rejects, nothing changes", async () => {
    const deal = await create(ben.token, 'deals', { stage: 'lead' })
    const res = await server.gql(UPDATE, { id: deal, input: { data: { stage: 'lost' } } }, cat.token)
    expect(res.errors).toBeUndefined()
    const request = res.data.updateRecord.approvalRequest
    expect(request).toMatchObject({ status: 'PENDING', onBehalfOf: { id: cat.id } })
    expect(await reviewersOf(request.id)).toEqual([{ id: ben.id }])
    expect((await decide(server, ben.token, request.id, 'rejectRequest', 'Still talking to them')).data.rejectRequest.status).toBe('REJECTED')
    expect((await read(deal)).data).toEqual({ stage: 'lead' })
    // the owner's own change runs at once (no rule gates people changing their records)
    expect((await server.gql(UPDATE, { id: deal, input: { data: { stage: 'qualified' } } }, ben.token)).data.updateRecord.approvalRequest).toBeNull()
    expect((await read(deal)).data).toEqual({ stage: 'qualified' })
  })
})

describe('a change nobody gates', () => {
  it("by someone who neither owns the record nor acts for its owner nor holds record:manage is FORBIDDEN, and nothing changes", async () => {
    const note = await create(ben.token, 'notes', { text: 'call back' })
    const requests = await requestCount()
    // they read it (notes are ORG), but may not change it without the owner's or a manager's say
    expect((await read(note, cat.token)).data).toEqual({ text: 'call back' })
    expect(codes(await server.gql(UPDATE, { id: note, input: { data: { text: 'ignore' } } }, cat.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(UPDATE, { id: note, input: { data: { text: 'ignore' } } }, annsAgent.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(UPDATE, { id: note, input: { data: { text: 'ignore' } } }, mel.token))).toEqual(['FORBIDDEN'])
    expect((await read(note)).data).toEqual({ text: 'call back' })
    expect(await requestCount()).toBe(requests)
  })

  it('by the owner, an agent acting for the owner, or a holder of record:manage runs at once', async () => {
    const note = await create(ben.token, 'notes', { n: 0 })
    for (const [token, n] of [[ben.token, 1], [bensAgent.token, 2], [admin.token, 3]] as const) {
      const res = await server.gql(UPDATE, { id: note, input: { data: { n } } }, token)
      expect(res.errors).toBeUndefined()
      expect(res.data.updateRecord).toMatchObject({ record: { data: { n } }, approvalRequest: null })
    }
  })
})

describe('taking a record over', () => {
  it("is refused to a member, even for a record they may read and propose changes to, and no request is made", async () => {
    const deal = await create(ben.token, 'deals', { name: 'Globex' })
    const requests = await requestCount()
    expect(codes(await server.gql(UPDATE, { id: deal, input: { data: {}, ownerId: cat.id } }, cat.token))).toEqual(['FORBIDDEN'])
    // an agent may not even propose it for review (the reviewer would be the owner it dispossesses)
    expect(codes(await server.gql(UPDATE, { id: deal, input: { data: { name: 'Mine' }, ownerId: ann.id } }, annsAgent.token))).toEqual(['FORBIDDEN'])
    const direct = await server.gql(REQUEST, { i: { resourceType: 'RECORD_MUTATION', actionType: 'update_record', recordId: deal, params: { recordId: deal, data: {}, ownerId: ann.id } } }, annsAgent.token)
    expect(codes(direct)).toEqual(['FORBIDDEN'])
    // nor give a new record to someone else
    expect(codes(await server.gql(CREATE, { input: { module: 'deals', data: {}, ownerId: ben.id } }, cat.token))).toEqual(['FORBIDDEN'])
    expect(await read(deal)).toEqual({ data: { name: 'Globex' }, owner: { id: ben.id } })
    expect(await requestCount()).toBe(requests)
    // the owner may hand it on
    const handed = await server.gql(UPDATE, { id: deal, input: { data: {}, ownerId: cat.id } }, ben.token)
    expect(handed.data.updateRecord.record.owner).toEqual({ id: cat.id })
  })
})

describe('ORG and PRIVATE modules', () => {
  it('everyone signed in reads an ORG module; once it is PRIVATE only the owner, agents acting for them and record:manage do', async () => {
    const account = await create(ben.token, 'accounts', { name: 'Initech' })
    const readers = { ben, bensAgent, admin, ann, annsAgent, cat, mel }
    const whoReads = async () => {
      const seen: string[] = []
      for (const [name, p] of Object.entries(readers)) {
        const [record, node] = await Promise.all([read(account, p.token), server.gql(NODE, { id: account }, p.token)])
        expect(node.data.node === null).toBe(record === null)
        if (record) seen.push(name)
      }
      return seen
    }
    expect(await whoReads()).toEqual(Object.keys(readers))
    expect(codes(await server.gql(`{ record(id: "${account}") { id } }`))).toEqual(['UNAUTHENTICATED'])

    expect((await server.gql(SET, { m: 'accounts', v: 'PRIVATE' }, admin.token)).data.setModuleVisibility).toEqual({ module: 'accounts', visibility: 'PRIVATE' })
    expect((await server.gql(SETTINGS, {}, admin.token)).data.moduleSettings).toContainEqual({ module: 'accounts', visibility: 'PRIVATE' })
    expect(await whoReads()).toEqual(['ben', 'bensAgent', 'admin'])
    // a record one may not read cannot be changed either: it does not exist for them
    expect(codes(await server.gql(UPDATE, { id: account, input: { data: { name: 'x' } } }, cat.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(UPDATE, { id: account, input: { data: { name: 'x' } } }, annsAgent.token))).toEqual(['NOT_FOUND'])
    const named = await server.gql(REQUEST, { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', recordId: account, params: { to: 'a@b.c', subject: 's', body: 'b' } } }, annsAgent.token)
    expect(codes(named)).toEqual(['BAD_USER_INPUT'])

    expect((await server.gql(SET, { m: 'accounts', v: 'ORG' }, admin.token)).errors).toBeUndefined()
    expect(await whoReads()).toEqual(Object.keys(readers))
    expect((await server.gql(SETTINGS, {}, admin.token)).data.moduleSettings).toContainEqual({ module: 'accounts', visibility: 'ORG' })
  })

  it('a PRIVATE module under a RECORD_OWNER rule: an agent acting for the owner is still asked, one acting for someone else finds nothing', async () => {
    await createRule(server, { name: 'Contract edits', resourceType: 'RECORD_MUTATION', actionType: 'update_record', module: 'contracts', primaryResolver: { type: 'RECORD_OWNER' }, fallbackResolver: { type: 'NAMED_USER', userId: admin.id } })
    expect((await server.gql(SET, { m: 'contracts', v: 'PRIVATE' }, admin.token)).errors).toBeUndefined()
    const contract = await create(ben.token, 'contracts', { term: 12 })
    expect(codes(await server.gql(UPDATE, { id: contract, input: { data: { term: 24 } } }, annsAgent.token))).toEqual(['NOT_FOUND'])
    const own = await server.gql(UPDATE, { id: contract, input: { data: { term: 24 } } }, bensAgent.token)
    // Ben is the person his agent acts for, so he may not approve it himself: the fallback does
    expect(own.data.updateRecord.approvalRequest).toMatchObject({ status: 'PENDING' })
    expect(await reviewersOf(own.data.updateRecord.approvalRequest.id)).toEqual([{ id: admin.id }])
  })
})

describe('module settings', () => {
  it('are for approval:manage: a member, a manager (approval:view), an agent and nobody are refused both fields, and nothing is written', async () => {
    for (const p of [cat, mel, annsAgent]) {
      expect(codes(await server.gql(SETTINGS, {}, p.token))).toEqual(['FORBIDDEN'])
      expect(codes(await server.gql(SET, { m: 'deals', v: 'PRIVATE' }, p.token))).toEqual(['FORBIDDEN'])
    }
    expect(codes(await server.gql(SETTINGS))).toEqual(['UNAUTHENTICATED'])
    expect(codes(await server.gql(SET, { m: 'deals', v: 'PRIVATE' }))).toEqual(['UNAUTHENTICATED'])
    expect(await server.db.prisma.moduleSettings.findUnique({ where: { module: 'deals' } })).toBeNull()
  })

  it('take a module name as records do: trimmed, 1 to 100 characters, no NUL; setting one again replaces it and records who set it', async () => {
    for (const m of ['', '   ', 'x'.repeat(101), 'a\u0000b']) {
      expect(codes(await server.gql(SET, { m, v: 'PRIVATE' }, admin.token))).toEqual(['BAD_USER_INPUT'])
    }
    expect((await server.gql(SET, { m: 'x'.repeat(100), v: 'PRIVATE' }, admin.token)).data.setModuleVisibility.module).toBe('x'.repeat(100))
    expect((await server.gql(SET, { m: '  Crm Deals  ', v: 'PRIVATE' }, admin.token)).data.setModuleVisibility).toEqual({ module: 'Crm Deals', visibility: 'PRIVATE' })
    expect((await server.gql(SET, { m: 'Crm Deals', v: 'ORG' }, server.ownerToken)).data.setModuleVisibility).toEqual({ module: 'Crm Deals', visibility: 'ORG' })
    const rows = await server.db.prisma.moduleSettings.findMany({ where: { module: { in: ['Crm Deals', '', '   '] } } })
    const ownerId = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(rows).toMatchObject([{ module: 'Crm Deals', visibility: 'ORG', updatedById: decodeGlobalID(ownerId).id }])
    // listed by name
    const listed = (await server.gql(SETTINGS, {}, admin.token)).data.moduleSettings.map((m: { module: string }) => m.module)
    expect(listed).toEqual([...listed].sort())
  })
})

describe('upgrading', () => {
  it('keeps the modules that already hold records PRIVATE, as every module was before, and leaves new ones ORG', async () => {
    const location = await freshDatabase()
    const db = await openAt(location)
    try {
      await db.migrate()
      // the database as it was before the module_visibility migration, with records in two modules
      const migration = (await readMigrations()).find((m) => m.name.endsWith('_module_visibility'))!
      await db.prisma.$executeRawUnsafe(`DROP TABLE "ModuleSettings"`)
      await db.prisma.$executeRawUnsafe(`DROP TYPE "RecordVisibility"`)
      await db.prisma.$executeRawUnsafe(`DELETE FROM "_prisma_migrations" WHERE "migration_name" = '${migration.name}'`)
      await db.prisma.record.createMany({ data: [{ module: 'deals', data: {} }, { module: 'deals', data: {} }, { module: 'notes', data: {} }] })
      expect(await db.migrate()).toEqual([migration.name])
      const rows = await db.prisma.moduleSettings.findMany({ orderBy: { module: 'asc' }, select: { module: true, visibility: true } })
      expect(rows).toEqual([
        { module: 'deals', visibility: 'PRIVATE' },
        { module: 'notes', visibility: 'PRIVATE' },
      ])
    } finally {
      await db.close()
      await location.drop()
    }
  })
})
