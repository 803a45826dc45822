// Webhook delivery against endpoints that misbehave: one that never answers (it delays neither
// decisions nor other endpoints), and one that is down while the server restarts (the delivery
// survives in the database and goes out from the next server).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, describe, expect, it } from 'vitest'
import type { RecordedAttempt } from '../src/outbox/webhook-dispatcher.js'
import {
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  freePort,
  freshDatabase,
  ManualClock,
  startServer,
  TEST_DATABASE_URL,
  type TestServer,
} from './harness.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

const CREATE = `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`
const ASK = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id status } } }`
const email = (n: number) => ({ resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'x@client.test', subject: `Hi ${n}`, body: '...' } })

async function endpointFor(server: TestServer, receiver: Receiver | { url: string; secret?: string }, events: string[]) {
  const res = await server.gql(CREATE, { input: { url: receiver.url, events } }, server.ownerToken)
  expect(res.errors).toBeUndefined()
  receiver.secret = res.data.createWebhookEndpoint.secret
  return res.data.createWebhookEndpoint.endpoint.id as string
}

async function people(server: TestServer) {
  const reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
  const agent = await createAgentWithToken(server, { name: 'Agent' })
  await createRule(server, { name: 'Mail', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  return { reviewer, agent }
}

describe('webhook delivery', () => {
  it('an endpoint that never answers delays neither the decision nor another endpoint; its attempt times out and is retried later', async () => {
    const TIMEOUT_MS = 3000
    const attempts: RecordedAttempt[] = []
    const attempted = new Set<(a: RecordedAttempt) => void>()
    const slow = await startReceiver({ answer: () => 'hang' })
    const fast = await startReceiver()
    cleanups.push(() => slow.close(), () => fast.close())
    // woken by each mutation (a long interval: nothing goes out by the timer during the test)
    const server = await startServer({
      webhooks: {
        allowPrivateNetworks: true,
        intervalMs: 60_000,
        timeoutMs: TIMEOUT_MS,
        onAttempt: (a) => {
          attempts.push(a)
          for (const listener of attempted) listener(a)
        },
      },
    })
    cleanups.push(() => server.destroy())
    const { reviewer, agent } = await people(server)
    const slowId = decodeGlobalID(await endpointFor(server, slow, ['APPROVAL_REQUESTED', 'APPROVAL_DECIDED'])).id
    await endpointFor(server, fast, ['APPROVAL_REQUESTED', 'APPROVAL_DECIDED'])
    const slowAttempt = new Promise<RecordedAttempt>((resolve) => attempted.add((a) => a.endpointId === slowId && resolve(a)))

    const asked = await server.gql(ASK, { input: email(1) }, agent.token)
    const id = asked.data.requestApproval.request.id
    await fast.waitFor(1, TIMEOUT_MS / 2)
    await slow.waitFor(1, TIMEOUT_MS / 2)
    // the slow endpoint has the request and has not answered; the decision goes through at once
    const decided = await decide(server, reviewer.token, id, 'approveRequest')
    expect(decided.data.approveRequest.status).toBe('APPROVED')
    expect(attempts.filter((a) => a.endpointId === slowId)).toEqual([])
    await fast.waitFor(2, TIMEOUT_MS / 2)
    // both of the fast endpoint's deliveries are done while the slow one's first attempt still waits
    expect(fast.payloads().map((p) => p.type)).toEqual(['approval.requested', 'approval.decided'])
    expect(attempts.filter((a) => a.endpointId === slowId)).toEqual([])

    const timedOut = await slowAttempt
    expect(timedOut).toMatchObject({ ok: false, statusCode: null, error: 'No answer within 3 s.', status: 'PENDING', attempt: 1 })
    expect(timedOut.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now())
    expect(attempts.filter((a) => a.endpointId !== slowId).every((a) => a.ok)).toBe(true)
  })

  it('a delivery to a receiver that is down survives a restart of the server and goes out from the next one', async () => {
    const clock = new ManualClock(new Date())
    const dataDir = TEST_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'approvals-webhooks-'))
    if (dataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const location = await freshDatabase(dataDir)
    cleanups.push(() => location.drop())
    const port = await freePort()
    const down = { url: `http://127.0.0.1:${port}/hooks`, secret: undefined as string | undefined }

    const first = await startServer({ location, clock, ownerToken: 'webhooks-restart-owner', webhooks: { allowPrivateNetworks: true, random: () => 0.5 } })
    const { agent } = await people(first)
    const endpointId = decodeGlobalID(await endpointFor(first, down, ['APPROVAL_REQUESTED'])).id
    await first.gql(ASK, { input: email(1) }, agent.token)
    // tried once, refused: nothing listens
    await first.app.webhooks.runOnce()
    const tried = await first.db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId } })
    expect(tried).toMatchObject({ status: 'PENDING', attempts: 1, lastStatusCode: null })
    expect(tried.lastError).toMatch(/ECONNREFUSED/)
    // and one written just before the stop, never tried
    await first.gql(ASK, { input: email(2) }, agent.token)
    await first.stop()

    const receiver = await startReceiver({ port })
    cleanups.push(() => receiver.close())
    receiver.secret = down.secret
    clock.advance(5)
    // the next server sends both by itself (its dispatcher looks at start, then every 50 ms)
    let recorded = 0
    let bothRecorded!: () => void
    const recordedTwice = new Promise<void>((resolve) => (bothRecorded = resolve))
    const second = await startServer({
      location,
      clock,
      ownerToken: 'webhooks-restart-owner',
      webhooks: { allowPrivateNetworks: true, intervalMs: 50, onAttempt: () => ++recorded === 2 && bothRecorded() },
    })
    cleanups.push(() => second.stop())
    await receiver.waitFor(2)
    await recordedTwice
    expect(receiver.received.map((r) => r.verifyError)).toEqual([null, null])
    expect(receiver.payloads().map((p) => p.data.request.params.subject).sort()).toEqual(['Hi 1', 'Hi 2'])
    const rows = await second.db.prisma.webhookDelivery.findMany({ where: { endpointId }, orderBy: { eventId: 'asc' } })
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 1],
    ])
    expect(receiver.received).toHaveLength(2)
  })
})
