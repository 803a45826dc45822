// A live inbox misses nothing while Redis is down: requests that arrive or leave during the
// outage reach the open subscription within seconds of Redis coming back. This test runs a
// redis-server of its own so that it can stop it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { collect, createAgentWithToken, createRule, createUserWithToken, decide, ownRedis, startServer, type TestServer } from './harness.js'

const redis = await ownRedis()
let server: TestServer


beforeAll(async () => {
  await redis.start()
  server = await startServer({ redisUrl: redis.url })
})
afterAll(async () => {
  await server?.destroy()
  if (redis.running()) await redis.stop()
})

const EMAIL = { to: 'x@corp.test', subject: 'Hi', body: 'Hello' }

async function ask(token: string, summary: string): Promise<string> {
  const res = await server.gql(
    `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`,
    { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL, summary } },
    token,
  )
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

it('an open inbox catches up on what changed while Redis was down, within seconds of its return', async () => {
  const reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
  const other = await createUserWithToken(server, { email: 'other@example.com', name: 'Other', roleKeys: ['admin'] })
  const agent = await createAgentWithToken(server, { name: 'Agent' })
  await createRule(server, { name: 'gate', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  const before = await ask(agent.token, 'before the outage')
  const listening = server.subscribed('approvalInbox')
  const inbox = collect(server.ws(reviewer.token), `subscription { approvalInbox { type request { id summary } } }`)
  await listening

  await redis.stop()
  // while Redis is down: a new request arrives, and the earlier one is withdrawn
  const during = await ask(agent.token, 'during the outage')
  const cancelled = await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: before }, other.token)
  expect(cancelled.data.cancelApprovalRequest.status).toBe('CANCELLED')
  expect(inbox.events).toEqual([])

  await redis.start()
  const events = await inbox.waitFor(2, 10_000)
  expect(events.map((e) => e.data!.approvalInbox)).toEqual(
    expect.arrayContaining([
      { type: 'ADDED', request: { id: during, summary: 'during the outage' } },
      { type: 'REMOVED', request: { id: before, summary: 'before the outage' } },
    ]),
  )
  // and it follows events again
  await decide(server, reviewer.token, during, 'approveRequest')
  const [, , removed] = await inbox.waitFor(3, 10_000)
  expect(removed!.data!.approvalInbox).toEqual({ type: 'REMOVED', request: { id: during, summary: 'during the outage' } })
  inbox.dispose()
})
