// Two instances on one PostgreSQL and one Redis, both sending the webhook outbox at once: one
// delivery row per event and endpoint, and each receiver sees each event once.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, decide, freshDatabase, startServer, type DatabaseLocation, type TestServer } from './harness.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

let location: DatabaseLocation
let a: TestServer
let b: TestServer
let receivers: Receiver[] = []

beforeAll(async () => {
  location = await freshDatabase()
  const redisUrl = process.env.TEST_REDIS_URL!
  // both dispatchers run by themselves: woken by each mutation, and every 25 ms
  const webhooks = { allowPrivateNetworks: true, intervalMs: 25 }
  a = await startServer({ location, redisUrl, ownerToken: 'webhooks-two-instances-owner', webhooks })
  b = await startServer({ location, redisUrl, ownerToken: 'webhooks-two-instances-owner', webhooks })
  receivers = [await startReceiver(), await startReceiver()]
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await Promise.all(receivers.map((r) => r.close()))
  await location?.drop()
})

it('two instances write one delivery per event and endpoint, and send each exactly once', async () => {
  const reviewer = await createUserWithToken(a, { email: 'rev@example.com', name: 'Reviewer', roleKeys: ['member'] })
  const agent = await createAgentWithToken(b, { name: 'Agent' })
  await createRule(a, { name: 'Mail', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  for (const [i, receiver] of receivers.entries()) {
    const res = await (i ? b : a).gql(
      `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
      { input: { url: receiver.url, events: ['APPROVAL_REQUESTED', 'APPROVAL_DECIDED'] } },
      a.ownerToken,
    )
    receiver.secret = res.data.createWebhookEndpoint.secret
  }

  const REQUESTS = 20
  const asked = await Promise.all(
    Array.from({ length: REQUESTS }, async (_, i) => {
      const res = await (i % 2 ? a : b).gql(
        `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`,
        { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'x@client.test', subject: `Hi ${i}`, body: '...' } } },
        agent.token,
      )
      return res.data.requestApproval.request.id as string
    }),
  )
  // each decided on the other instance than the one it was asked on
  await Promise.all(asked.map((id, i) => decide(i % 2 ? b : a, reviewer.token, id, i % 3 ? 'approveRequest' : 'rejectRequest')))
  const events = REQUESTS * 2
  await Promise.all(receivers.map((r) => r.waitFor(events, 20_000)))

  // nothing more to come: both dispatchers stop after their attempts under way
  await Promise.all([a.app.webhooks.stop(), b.app.webhooks.stop()])
  for (const receiver of receivers) {
    expect(receiver.received).toHaveLength(events)
    expect(receiver.received.every((r) => r.verifyError === null)).toBe(true)
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(events)
    const seen = receiver.payloads().map((p) => `${p.type} ${p.data.request.id}`)
    expect(new Set(seen).size).toBe(events)
  }
  const rows = await a.db.prisma.webhookDelivery.groupBy({ by: ['status', 'attempts'], _count: true })
  expect(rows).toEqual([{ status: 'SUCCEEDED', attempts: 1, _count: events * receivers.length }])
})
