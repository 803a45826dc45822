// Redis goes away and comes back while an agent waits: nothing is lost. This test runs a
// redis-server of its own (from the same installation as TEST_REDIS_URL's) so that it can stop it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { collect, createAgentWithToken, createRule, createUserWithToken, decide, ownRedis, startServer, type TestServer } from './harness.js'

const redis = await ownRedis()
let server: TestServer


/** Asks for approval as `token`, selecting only the request's id (a requester sees little of the rule). */
async function ask(server: TestServer, token: string, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`, { input }, token)
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

const EMAIL = { to: 'x@corp.test', subject: 'Hi', body: 'Hello' }

const ready = async () => (await fetch(server.url.replace(/\/graphql$/, '/readyz'))).status

beforeAll(async () => {
  await redis.start()
  server = await startServer({ redisUrl: redis.url, catchUpIntervalMs: 500 })
})
afterAll(async () => {
  await server?.destroy()
  if (redis.running()) await redis.stop()
})

it('delivers a decision made while Redis was down, soon after Redis is back, and /readyz tells', async () => {
  const reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
  const agent = await createAgentWithToken(server, { name: 'Agent' })
  await createRule(server, { name: 'gate', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  const id = await ask(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL })
  const listening = Promise.all([server.subscribed('approvalDecision'), server.subscribed('approvalInbox')])
  const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { id status } }`, { id })
  const inbox = collect(server.ws(reviewer.token), `subscription { approvalInbox { type request { id } } }`)
  await listening
  expect(await ready()).toBe(200)

  await redis.stop()
  expect(await ready()).toBe(503)
  // the decision commits; its event cannot be published
  expect((await decide(server, reviewer.token, id, 'approveRequest')).data.approveRequest.status).toBe('APPROVED')

  await redis.start()
  const backAt = Date.now()
  await waiting.completed
  expect(waiting.events).toEqual([{ data: { approvalDecision: { id, status: 'APPROVED' } } }])
  expect(Date.now() - backAt).toBeLessThan(5000)
  for (let i = 0; i < 50 && (await ready()) !== 200; i++) await new Promise((r) => setTimeout(r, 100))
  expect(await ready()).toBe(200)

  // subscriptions follow events again once Redis is back: the inbox hears a new request (after,
  // or before, the REMOVED of the decided request that its resynchronisation on reconnect sends)
  const next = await ask(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { ...EMAIL, again: true } })
  const added = { type: 'ADDED', request: { id: next } }
  const heard = () => inbox.events.map((e) => JSON.stringify(e.data!.approvalInbox))
  for (let n = 1; !heard().includes(JSON.stringify(added)); n++) await inbox.waitFor(n, 10_000)
  expect(inbox.events.map((e) => e.data!.approvalInbox)).toContainEqual(added)
  inbox.dispose()
})
