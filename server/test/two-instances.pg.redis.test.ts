// Two instances sharing one PostgreSQL and one Redis behave as one service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  freshDatabase,
  startServer,
  type DatabaseLocation,
  type TestServer,
} from './harness.js'

const CATCH_UP_MS = 10_000
let location: DatabaseLocation
let a: TestServer
let b: TestServer

beforeAll(async () => {
  location = await freshDatabase()
  const redisUrl = process.env.TEST_REDIS_URL!
  // a long catch-up interval: what arrives sooner came by the Redis fast path, not a re-read
  a = await startServer({ location, redisUrl, ownerToken: 'two-instances-owner-token', catchUpIntervalMs: CATCH_UP_MS })
  b = await startServer({ location, redisUrl, ownerToken: 'two-instances-owner-token', catchUpIntervalMs: CATCH_UP_MS })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
})

/** Asks for approval as `token`, selecting only the request's id (a requester sees little of the rule). */
async function ask(server: TestServer, token: string, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`, { input }, token)
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

describe('two instances over PostgreSQL and Redis', () => {
  it('an agent waiting on A hears a decision made on B; a reviewer on B sees a request made on A', async () => {
    const reviewer = await createUserWithToken(a, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
    const agent = await createAgentWithToken(b, { name: 'Agent' })
    await createRule(b, { name: 'gate', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })

    const inboxListening = b.subscribed('approvalInbox')
    const inboxOnB = collect(b.ws(reviewer.token), `subscription { approvalInbox { type request { id } } }`)
    await inboxListening
    const id = await ask(a, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'x@y.z', subject: 'Hi', body: 'Hello' } })
    const [added] = await inboxOnB.waitFor(1, 1000)
    expect(added!.data!.approvalInbox).toEqual({ type: 'ADDED', request: { id } })

    const decisionListening = a.subscribed('approvalDecision')
    const decisionOnA = collect(a.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { id status } }`, { id })
    await decisionListening
    const decidedAt = Date.now()
    await decide(b, reviewer.token, id, 'approveRequest')
    await decisionOnA.completed
    // well under the catch-up interval: the event crossed instances through Redis
    expect(Date.now() - decidedAt).toBeLessThan(CATCH_UP_MS / 5)
    expect(decisionOnA.events).toEqual([{ data: { approvalDecision: { id, status: 'APPROVED' } } }])
    const [, removed] = await inboxOnB.waitFor(2)
    expect(removed!.data!.approvalInbox).toEqual({ type: 'REMOVED', request: { id } })
    inboxOnB.dispose()
  })

  it("an agent's worker subscribed on A hears an action approved on B, and exactly one of two claims wins", async () => {
    const reviewer = await createUserWithToken(a, { email: 'rev2@example.com', name: 'Reviewer 2', roleKeys: ['member'] })
    const boss = await createUserWithToken(a, { email: 'boss2@example.com', name: 'Boss 2', roleKeys: ['member'] })
    const agent = await createAgentWithToken(b, { name: 'Worker', ownerId: boss.id })
    await createRule(a, { name: 'posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    const listening = a.subscribed('approvedActions')
    const actions = collect(a.ws(agent.token), `subscription { approvedActions { id execution { status } } }`)
    await listening
    const asked = await b.gql(`mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "post_to_social", params: { text: "Launch" } }) { request { id } } }`, {}, agent.token)
    const id = asked.data.requestApproval.request.id
    const approvedAt = Date.now()
    await decide(b, reviewer.token, id, 'approveRequest')
    const [ready] = await actions.waitFor(1, 1000)
    expect(ready!.data!.approvedActions).toEqual({ id, execution: { status: 'READY' } })
    expect(Date.now() - approvedAt).toBeLessThan(CATCH_UP_MS / 5)
    // two workers, one on each instance, claim it at once
    const claim = `mutation($id: ID!) { claimExecution(requestId: $id) { attempt } }`
    const results = await Promise.all([a.gql(claim, { id }, agent.token), b.gql(claim, { id }, agent.token)])
    expect(results.filter((r) => !r.errors)).toHaveLength(1)
    expect(results.flatMap((r) => (r.errors ?? []).map((e) => e.extensions?.code))).toEqual(['CONFLICT'])
    actions.dispose()
  })

  it('a token revoked and a role given on A apply on B within a second (B had them cached)', async () => {
    const VIEWER = `{ viewer { permissions } }`
    const user = await createUserWithToken(a, { email: 'cached@example.com', name: 'Cached', roleKeys: ['member'] })
    const spare = await a.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "spare") { token apiToken { id } } }`, { id: user.id }, a.ownerToken)
    expect((await b.gql(VIEWER, {}, user.token)).data.viewer.permissions).toEqual(['approval:resolve'])
    expect((await b.gql(VIEWER, {}, spare.data.createApiToken.token)).errors).toBeUndefined()

    // B's own pub/sub hears the change: the signal that it reached B, timed from the mutation's start
    const heard = (topic: 'principalChanged' | 'accessRevoked') => b.app.pubsub.subscribe(topic)[Symbol.asyncIterator]().next()
    let changed = heard('principalChanged')
    let started = Date.now()
    const promoted = await a.gql(`mutation($id: ID!) { updateUser(id: $id, input: { roleKeys: ["manager"] }) { id } }`, { id: user.id }, a.ownerToken)
    expect(promoted.errors).toBeUndefined()
    await changed
    expect((await b.gql(VIEWER, {}, user.token)).data.viewer.permissions.sort()).toEqual(['approval:resolve', 'approval:view'])
    expect(Date.now() - started).toBeLessThan(1000)

    changed = heard('accessRevoked')
    started = Date.now()
    const revoked = await a.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: spare.data.createApiToken.apiToken.id }, a.ownerToken)
    expect(revoked.errors).toBeUndefined()
    await changed
    expect(codes(await b.gql(VIEWER, {}, spare.data.createApiToken.token))).toEqual(['UNAUTHENTICATED'])
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('a rule created on A gates the next request on B within a second (B had cached that nothing gates it)', async () => {
    const reviewer = await createUserWithToken(a, { email: 'rules-rev@example.com', name: 'Rules reviewer', roleKeys: ['member'] })
    const agent = await createAgentWithToken(a, { name: 'Rules agent' })
    const input = { resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module: 'cross', params: { title: 'Launch' } }
    const gated = async () =>
      (await b.gql(`mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired } }`, { i: input }, agent.token)).data.requestApproval.approvalRequired
    expect(await gated()).toBe(false)
    const heard = b.app.pubsub.subscribe('rulesChanged')[Symbol.asyncIterator]().next()
    const started = Date.now()
    await createRule(a, { name: 'cross', resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module: 'cross', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    await heard
    expect(await gated()).toBe(true)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('a module made PRIVATE on A hides its records on B within a second (B had cached that no module is private)', async () => {
    const [owner, other] = await Promise.all([
      createUserWithToken(a, { email: 'vis-owner@example.com', name: 'Owner', roleKeys: ['member'] }),
      createUserWithToken(a, { email: 'vis-other@example.com', name: 'Other', roleKeys: ['member'] }),
    ])
    const created = await a.gql(`mutation { createRecord(input: { module: "ledger", data: { n: 1 } }) { record { id } } }`, {}, owner.token)
    const id = created.data.createRecord.record.id
    const read = async (token: string) => (await b.gql(`query($id: ID!) { record(id: $id) { id } }`, { id }, token)).data.record
    expect(await read(other.token)).toEqual({ id })
    const heard = b.app.pubsub.subscribe('moduleSettingsChanged')[Symbol.asyncIterator]().next()
    const started = Date.now()
    const set = await a.gql(`mutation { setModuleVisibility(module: "ledger", visibility: PRIVATE) { visibility } }`, {}, a.ownerToken)
    expect(set.errors).toBeUndefined()
    await heard
    expect(await read(other.token)).toBeNull()
    expect(await read(owner.token)).toEqual({ id })
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
