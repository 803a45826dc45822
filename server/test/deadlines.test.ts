import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  freshDatabase,
  getRequest,
  ManualClock,
  REQUESTER_FIELDS,
  requestApproval,
  startServer,
  TEST_DATABASE_URL,
  type DatabaseLocation,
  type TestServer,
} from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let location: DatabaseLocation
let dataDir: string | undefined
let server: TestServer
let carol: Principal, bob: Principal, agent: Principal
let moduleSeq = 0

beforeAll(async () => {
  // a data folder (or database) that outlives one server, for the restart test
  dataDir = TEST_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'approvals-deadlines-'))
  location = await freshDatabase(dataDir)
  server = await startServer({ clock, location, ownerToken: 'deadlines-owner-token' })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Poster' })
})
afterAll(async () => {
  await server?.stop()
  await location?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

async function gate(rule: Record<string, unknown>) {
  const module = `d${++moduleSeq}`
  await createRule(server, { name: `rule ${module}`, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, ...rule })
  const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: 'Launch!' } })
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request
}

const types = (r: { events: { type: string }[] }) => r.events.map((e) => e.type)

describe('deadlines (driven by an injected clock, no sleeping)', () => {
  it('onExpiry APPROVE: reviewers may decide until the deadline; silence then approves, by nobody, and says so', async () => {
    const rule = { primaryResolver: { type: 'NAMED_USER', userId: carol.id }, expiresAfterSeconds: 300, onExpiry: 'APPROVE' }
    const rejected = await gate(rule)
    expect((await decide(server, carol.token, rejected.id, 'rejectRequest', 'No')).data.rejectRequest.status).toBe('REJECTED')
    const silent = await gate(rule)
    clock.advance(299)
    expect((await server.app.scheduler.runOnce()).expired).toEqual([])
    clock.advance(2)
    await server.app.scheduler.runOnce()
    // as the agent that asked sees it
    const after = (await server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${REQUESTER_FIELDS} } }`, { id: silent.id }, agent.token)).data.approvalRequest
    expect(after).toMatchObject({ status: 'APPROVED', decidedBy: null, decisionComment: expect.stringMatching(/nobody decided before the deadline/) })
    expect(types(after)).toEqual(['REQUESTED', 'APPROVED'])
    const execution = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { execution { status } } }`, { id: silent.id }, agent.token)
    expect(execution.data.approvalRequest.execution).toEqual({ status: 'READY' })
    // the rule shows it, and a rule without it still expires (covered below)
    const rules = await server.gql(`{ approvalRules { name onExpiry } }`, {}, server.ownerToken)
    expect(rules.data.approvalRules.filter((r: { onExpiry: string }) => r.onExpiry === 'APPROVE')).toHaveLength(2)
  })

  it('expires a request when expiresAt passes; a decision after that is CONFLICT', async () => {
    const request = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id }, expiresAfterSeconds: 600 })
    expect(new Date(request.expiresAt).getTime() - clock.now().getTime()).toBe(600_000)
    clock.advance(599)
    expect((await server.app.scheduler.runOnce()).expired).toEqual([])
    expect((await getRequest(server, carol.token, request.id)).data.approvalRequest.status).toBe('PENDING')
    clock.advance(2)
    // even before the scheduler has run, the deadline holds
    expect(codes(await decide(server, carol.token, request.id, 'approveRequest'))).toEqual(['CONFLICT'])
    await server.app.scheduler.runOnce()
    const after = (await getRequest(server, carol.token, request.id)).data.approvalRequest
    expect(after.status).toBe('EXPIRED')
    expect(types(after)).toEqual(['REQUESTED', 'EXPIRED'])
    expect(codes(await decide(server, carol.token, request.id, 'approveRequest'))).toEqual(['CONFLICT'])
    // and it left the inbox
    const inbox = await server.gql(`{ approvalInbox { edges { node { id } } } }`, {}, carol.token)
    expect(inbox.data.approvalInbox.edges).toEqual([])
  })

  it('escalates to the fallback when the primary has not decided in time', async () => {
    const request = await gate({
      primaryResolver: { type: 'NAMED_USER', userId: carol.id },
      fallbackResolver: { type: 'NAMED_USER', userId: bob.id },
      escalateAfterSeconds: 300,
    })
    expect(request.reviewers.map((r: { id: string }) => r.id)).toEqual([carol.id])
    clock.advance(301)
    const changes = await server.app.scheduler.runOnce()
    expect(changes.escalated).toHaveLength(1)
    const after = (await getRequest(server, bob.token, request.id)).data.approvalRequest
    expect(after).toMatchObject({ status: 'PENDING', escalated: true, reviewers: [{ id: bob.id }] })
    expect(types(after)).toEqual(['REQUESTED', 'ESCALATED'])
    expect(after.events[1].comment).toMatch(/Not decided within 300 s/)
    expect(codes(await decide(server, carol.token, request.id, 'approveRequest'))).toEqual(['FORBIDDEN'])
    expect((await decide(server, bob.token, request.id, 'approveRequest')).data.approveRequest.status).toBe('APPROVED')
    // escalation happens once
    clock.advance(1000)
    expect((await server.app.scheduler.runOnce()).escalated).toEqual([])
  })

  it('auto-approves after the delay', async () => {
    const request = await gate({ primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 120 } })
    expect(request).toMatchObject({ status: 'PENDING', resolverType: 'AUTO_APPROVE', reviewers: [] })
    clock.advance(119)
    await server.app.scheduler.runOnce()
    expect((await getRequest(server, server.ownerToken, request.id)).data.approvalRequest.status).toBe('PENDING')
    clock.advance(1)
    await server.app.scheduler.runOnce()
    const after = (await getRequest(server, server.ownerToken, request.id)).data.approvalRequest
    expect(after).toMatchObject({ status: 'APPROVED', decidedBy: null })
    expect(types(after)).toEqual(['REQUESTED', 'APPROVED'])
  })

  it('lets an expiry that falls due first win over a later auto-approval', async () => {
    const request = await gate({ primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 600 }, expiresAfterSeconds: 60 })
    clock.advance(3600) // both deadlines passed while nothing ran
    await server.app.scheduler.runOnce()
    expect((await getRequest(server, server.ownerToken, request.id)).data.approvalRequest.status).toBe('EXPIRED')
  })

  it('still fires deadlines after a restart: they live in the database', async () => {
    const expiring = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id }, expiresAfterSeconds: 60 })
    const escalating = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id }, fallbackResolver: { type: 'NAMED_USER', userId: bob.id }, escalateAfterSeconds: 60 })
    const auto = await gate({ primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 60 } })
    await server.stop()

    clock.advance(61)
    server = await startServer({ clock, location, ownerToken: 'deadlines-owner-token' })
    const changes = await server.app.scheduler.runOnce()
    expect(changes).toEqual({ expired: [expect.any(String)], autoApproved: [expect.any(String)], escalated: [expect.any(String)], requeued: [], executionsFailed: [], returned: [] })
    const status = async (id: string) => (await getRequest(server, server.ownerToken, id)).data.approvalRequest
    expect((await status(expiring.id)).status).toBe('EXPIRED')
    expect((await status(auto.id)).status).toBe('APPROVED')
    expect(await status(escalating.id)).toMatchObject({ status: 'PENDING', escalated: true, reviewers: [{ id: bob.id }] })
  })
})
