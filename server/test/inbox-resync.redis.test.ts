// A live inbox misses nothing while Redis is down: requests that arrive or leave during the
// outage reach the open subscription within seconds of Redis coming back. This test runs a
// redis-server of its own so that it can stop it.
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { collect, createAgentWithToken, createRule, createUserWithToken, decide, freePort, startServer, type TestServer } from './harness.js'

let port: number
let redis: ChildProcess | undefined
let server: TestServer

async function startRedis() {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe' })
  await new Promise<void>((resolve, reject) => {
    redis!.once('error', reject)
    redis!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve())
  })
}

async function stopRedis() {
  const exited = new Promise((r) => redis!.once('exit', r))
  redis!.kill('SIGKILL')
  await exited
}

beforeAll(async () => {
  port = await freePort()
  await startRedis()
  server = await startServer({ redisUrl: `redis://127.0.0.1:${port}` })
})
afterAll(async () => {
  await server?.destroy()
  if (redis && redis.exitCode === null) await stopRedis()
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

  await stopRedis()
  // while Redis is down: a new request arrives, and the earlier one is withdrawn
  const during = await ask(agent.token, 'during the outage')
  const cancelled = await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: before }, other.token)
  expect(cancelled.data.cancelApprovalRequest.status).toBe('CANCELLED')
  expect(inbox.events).toEqual([])

  await startRedis()
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
