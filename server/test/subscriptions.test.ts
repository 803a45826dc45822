import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  ManualClock,
  requestApproval,
  startServer,
  type TestServer,
} from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let server: TestServer
let carol: Principal, bob: Principal, erin: Principal, agent: Principal, other: Principal
let moduleSeq = 0

beforeAll(async () => {
  server = await startServer({ clock })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
  erin = await createUserWithToken(server, { email: 'erin@example.com', name: 'Erin', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Waiter' })
  other = await createAgentWithToken(server, { name: 'Other agent' })
})
afterAll(() => server?.destroy())

const DECISION = `subscription($id: ID!) { approvalDecision(requestId: $id) { id status decidedBy { id } decisionComment } }`
const INBOX = `subscription { approvalInbox { type request { id status summary requester { name } } } }`

async function gate(rule: Record<string, unknown> = {}, summary = 'Post the launch') {
  const module = `s${++moduleSeq}`
  await createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, primaryResolver: { type: 'NAMED_USER', userId: carol.id }, ...rule })
  const ask = () => requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: 'hi' }, summary })
  const res = await ask()
  return { request: res.data.requestApproval.request, ask }
}

describe('approvalDecision', () => {
  it('delivers the decision to the waiting agent, then completes', async () => {
    const { request } = await gate()
    const sub = collect(server.ws(agent.token), DECISION, { id: request.id })
    // give the subscription a moment to start; the decision must arrive whether or not it has
    await new Promise((r) => setTimeout(r, 50))
    await decide(server, carol.token, request.id, 'approveRequest', 'Go ahead')
    await sub.completed
    expect(sub.events).toEqual([{ data: { approvalDecision: { id: request.id, status: 'APPROVED', decidedBy: { id: carol.id }, decisionComment: 'Go ahead' } } }])
  })

  it('emits at once when the request is already final', async () => {
    const { request } = await gate()
    await decide(server, carol.token, request.id, 'rejectRequest', 'No')
    const sub = collect(server.ws(agent.token), DECISION, { id: request.id })
    await sub.completed
    expect(sub.events[0]!.data!.approvalDecision.status).toBe('REJECTED')
  })

  it('misses no decision made between requestApproval returning and the subscription starting', async () => {
    const client = server.ws(agent.token)
    for (let i = 0; i < 10; i++) {
      const { request } = await gate()
      // the decision and the subscription race
      const [, sub] = await Promise.all([decide(server, carol.token, request.id, 'approveRequest'), Promise.resolve(collect(client, DECISION, { id: request.id }))])
      await sub.completed
      expect(sub.events.map((e) => e.data!.approvalDecision.status)).toEqual(['APPROVED'])
    }
  })

  it('delivers expiry and cancellation too', async () => {
    const expiring = await gate({ expiresAfterSeconds: 30 })
    const cancelled = await gate()
    const a = collect(server.ws(agent.token), DECISION, { id: expiring.request.id })
    const b = collect(server.ws(agent.token), DECISION, { id: cancelled.request.id })
    await new Promise((r) => setTimeout(r, 50))
    clock.advance(31)
    await server.app.scheduler.runOnce()
    await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { id } }`, { id: cancelled.request.id }, agent.token)
    await Promise.all([a.completed, b.completed])
    expect(a.events[0]!.data!.approvalDecision.status).toBe('EXPIRED')
    expect(b.events[0]!.data!.approvalDecision.status).toBe('CANCELLED')
  })

  it('is NOT_FOUND for those who may not see the request', async () => {
    const { request } = await gate()
    const sub = collect(server.ws(other.token), DECISION, { id: request.id })
    await expect(sub.completed).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })])
  })
})

describe('approvalInbox', () => {
  it('adds new requests, removes decided ones, and only for their reviewers', async () => {
    const carolInbox = collect(server.ws(carol.token), INBOX)
    const erinInbox = collect(server.ws(erin.token), INBOX)
    await new Promise((r) => setTimeout(r, 100))
    const { request } = await gate({}, 'Announce the release')
    const [added] = await carolInbox.waitFor(1)
    expect(added!.data!.approvalInbox).toEqual({ type: 'ADDED', request: { id: request.id, status: 'PENDING', summary: 'Announce the release', requester: { name: 'Waiter' } } })
    await decide(server, carol.token, request.id, 'approveRequest')
    const events = await carolInbox.waitFor(2)
    expect(events[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id: request.id, status: 'APPROVED' } })
    expect(erinInbox.events).toEqual([])
    carolInbox.dispose()
    erinInbox.dispose()
  })

  it('moves an escalated request from the primary to the fallback, and removes expired ones', async () => {
    const carolInbox = collect(server.ws(carol.token), INBOX)
    const bobInbox = collect(server.ws(bob.token), INBOX)
    await new Promise((r) => setTimeout(r, 100))
    const { request } = await gate({ fallbackResolver: { type: 'NAMED_USER', userId: bob.id }, escalateAfterSeconds: 60, expiresAfterSeconds: 600 })
    await carolInbox.waitFor(1)
    clock.advance(61)
    await server.app.scheduler.runOnce()
    const [toBob] = await bobInbox.waitFor(1)
    expect(toBob!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id: request.id } })
    const carolEvents = await carolInbox.waitFor(2)
    expect(carolEvents[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id: request.id } })
    clock.advance(600)
    await server.app.scheduler.runOnce()
    const bobEvents = await bobInbox.waitFor(2)
    expect(bobEvents[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id: request.id, status: 'EXPIRED' } })
    carolInbox.dispose()
    bobInbox.dispose()
  })
})

describe('connection limits and revocation', () => {
  it('refuses operations past the per-connection maximum', async () => {
    const limited = await startServer({ maxSubscriptionsPerConnection: 2 })
    try {
      const client = limited.ws(limited.ownerToken)
      const a = collect(client, INBOX)
      const b = collect(client, INBOX)
      const c = collect(client, INBOX)
      await expect(c.completed).rejects.toEqual([expect.objectContaining({ message: expect.stringMatching(/At most 2 operations/) })])
      a.dispose()
      // a finished operation frees its place
      await new Promise((r) => setTimeout(r, 50))
      const d = collect(client, INBOX)
      await new Promise((r) => setTimeout(r, 100))
      expect(d.events).toEqual([])
      b.dispose()
      d.dispose()
    } finally {
      await limited.destroy()
    }
  })

  it('stops delivering to a subscription whose token was revoked', async () => {
    const quick = await startServer({ catchUpIntervalMs: 100 })
    try {
      const reviewer = await createUserWithToken(quick, { email: 'rev@example.com', name: 'Rev', roleKeys: ['member'] })
      const asker = await createAgentWithToken(quick, { name: 'Asker' })
      await createRule(quick, { name: 'r', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
      const inbox = collect(quick.ws(reviewer.token), INBOX)
      await new Promise((r) => setTimeout(r, 100))
      await requestApproval(quick, asker.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { n: 1 } })
      await inbox.waitFor(1)

      const tokens = await quick.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: reviewer.id }, quick.ownerToken)
      expect(tokens.errors).toBeUndefined()
      const row = await quick.db.prisma.apiToken.findFirstOrThrow({ where: { name: 'test', user: { email: 'rev@example.com' } } })
      const { encodeGlobalID } = await import('@pothos/plugin-relay')
      const revoked = await quick.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: encodeGlobalID('ApiToken', row.id) }, reviewer.token)
      expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
      expect((await quick.gql(`{ viewer { permissions } }`, {}, reviewer.token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')

      await new Promise((r) => setTimeout(r, 150))
      await requestApproval(quick, asker.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { n: 2 } })
      await inbox.completed
      expect(inbox.events).toHaveLength(1)
    } finally {
      await quick.destroy()
    }
  })
})
