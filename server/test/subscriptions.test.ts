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
    const subscribed = server.subscribed('approvalDecision')
    const sub = collect(server.ws(agent.token), DECISION, { id: request.id })
    await subscribed
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
    const subscribed = server.subscribed('approvalDecision', 2)
    const a = collect(server.ws(agent.token), DECISION, { id: expiring.request.id })
    const b = collect(server.ws(agent.token), DECISION, { id: cancelled.request.id })
    await subscribed
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
    const subscribed = server.subscribed('approvalInbox', 2)
    const carolInbox = collect(server.ws(carol.token), INBOX)
    const erinInbox = collect(server.ws(erin.token), INBOX)
    await subscribed
    const { request } = await gate({}, 'Announce the release')
    const [added] = await carolInbox.waitFor(1)
    expect(added!.data!.approvalInbox).toEqual({ type: 'ADDED', request: { id: request.id, status: 'PENDING', summary: 'Announce the release', requester: { name: 'Waiter' } } })
    await decide(server, carol.token, request.id, 'approveRequest')
    const events = await carolInbox.waitFor(2)
    expect(events[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id: request.id, status: 'APPROVED' } })
    // erin's subscription is live (a request for her arrives), and it is the first thing she hears
    const forErin = await gate({ primaryResolver: { type: 'NAMED_USER', userId: erin.id } }, 'For Erin')
    const [erinsFirst] = await erinInbox.waitFor(1)
    expect(erinsFirst!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id: forErin.request.id } })
    carolInbox.dispose()
    erinInbox.dispose()
  })

  it('moves an escalated request from the primary to the fallback, and removes expired ones', async () => {
    const subscribed = server.subscribed('approvalInbox', 2)
    const carolInbox = collect(server.ws(carol.token), INBOX)
    const bobInbox = collect(server.ws(bob.token), INBOX)
    await subscribed
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
      const reviewer = await createUserWithToken(limited, { email: 'lim@example.com', name: 'Lim', roleKeys: ['member'] })
      const asker = await createAgentWithToken(limited, { name: 'Asker' })
      await createRule(limited, { name: 'r', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
      const client = limited.ws(reviewer.token)
      const two = limited.subscribed('approvalInbox', 2)
      const a = collect(client, INBOX)
      const b = collect(client, INBOX)
      await two
      const c = collect(client, INBOX)
      await expect(c.completed).rejects.toEqual([expect.objectContaining({ message: expect.stringMatching(/At most 2 operations/) })])
      // a finished operation frees its place: the next one runs and hears events
      a.dispose()
      await limited.waitForSubscriptionCount(1)
      const started = limited.subscribed('approvalInbox')
      const d = collect(client, INBOX)
      await started
      await requestApproval(limited, asker.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'x' } })
      const [event] = await d.waitFor(1)
      expect(event!.data!.approvalInbox.type).toBe('ADDED')
      b.dispose()
      d.dispose()
    } finally {
      await limited.destroy()
    }
  })

  it('closes the sockets of a revoked token with 4403 at once, and sends nothing more', async () => {
    const reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Rev', roleKeys: ['member'] })
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    let closed!: (event: { code: number; reason: string }) => void
    const closing = new Promise<{ code: number; reason: string }>((resolve) => (closed = resolve))
    const subscribed = server.subscribed('approvalInbox')
    const inbox = collect(server.ws(reviewer.token, { onClose: (e) => closed(e) }), INBOX)
    await subscribed
    const row = await server.db.prisma.apiToken.findFirstOrThrow({ where: { name: 'test', user: { email: 'rev@example.com' } } })
    const { encodeGlobalID } = await import('@pothos/plugin-relay')
    const revoked = await server.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: encodeGlobalID('ApiToken', row.id) }, reviewer.token)
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
    expect((await closing).code).toBe(4403)
    expect((await server.gql(`{ viewer { permissions } }`, {}, reviewer.token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    // the request it was reviewing changes; nothing reaches the closed subscription
    await decide(server, server.ownerToken, request.id, 'approveRequest').catch(() => {})
    expect(inbox.events).toEqual([])
  })
})
