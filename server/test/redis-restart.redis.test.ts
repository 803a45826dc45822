// Redis goes away and comes back while an agent waits: nothing is lost. This test runs a
// redis-server of its own (from the same installation as TEST_REDIS_URL's) so that it can stop it.
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

/** Asks for approval as `token`, selecting only the request's id (a requester sees little of the rule). */
async function ask(server: TestServer, token: string, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`, { input }, token)
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

const EMAIL = { to: 'x@corp.test', subject: 'Hi', body: 'Hello' }

const ready = async () => (await fetch(server.url.replace(/\/graphql$/, '/readyz'))).status

beforeAll(async () => {
  port = await freePort()
  await startRedis()
  server = await startServer({ redisUrl: `redis://127.0.0.1:${port}`, catchUpIntervalMs: 500 })
})
afterAll(async () => {
  await server?.destroy()
  if (redis && redis.exitCode === null) await stopRedis()
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

  await stopRedis()
  expect(await ready()).toBe(503)
  // the decision commits; its event cannot be published
  expect((await decide(server, reviewer.token, id, 'approveRequest')).data.approveRequest.status).toBe('APPROVED')

  await startRedis()
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
