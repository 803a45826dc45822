// Webhooks end to end: real approvals through the API, the outbox written with them, sent to a
// real HTTP receiver on loopback that verifies every delivery with the standardwebhooks library.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nominalRetryDelayMs } from '../src/outbox/retry-schedule.js'
import {
  codes,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  ManualClock,
  startServer,
  type TestServer,
} from './harness.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

const ALL_EVENTS = ['APPROVAL_REQUESTED', 'APPROVAL_ESCALATED', 'APPROVAL_DECIDED', 'APPROVAL_EXPIRED', 'APPROVAL_CANCELLED', 'EXECUTION_FINISHED']
const CREATE = `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url events enabled } } }`
const DELIVERIES = `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 100) { edges { node {
  id eventType status attempts lastStatusCode lastError nextAttemptAt payload attemptLog { attempt statusCode error } } } } } }`

const clock = new ManualClock(new Date('2026-03-02T09:00:00.000Z'))
let server: TestServer
let receiver: Receiver
let endpointId: string
let reviewer: { id: string; token: string }
let fallback: { id: string; token: string }
let agent: { id: string; token: string }
let statements: string[] = []
const transactions = () => statements.filter((sql) => /^\s*(BEGIN|COMMIT)/i.test(sql) || sql.includes('Implicit "COMMIT"'))

/** Creates an endpoint as the owner for `receiver`, who then verifies with its secret. */
async function endpointFor(target: Receiver, events: string[], srv = server): Promise<string> {
  const res = await srv.gql(CREATE, { input: { url: target.url, events, description: 'test receiver' } }, srv.ownerToken)
  expect(res.errors).toBeUndefined()
  target.secret = res.data.createWebhookEndpoint.secret
  return res.data.createWebhookEndpoint.endpoint.id
}

async function ask(input: Record<string, unknown>, token = agent.token): Promise<string> {
  const res = await server.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id status } } }`, { input }, token)
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

const email = (module: string, n = 1) => ({ resourceType: 'AGENT_ACTION', actionType: 'send_email', module, summary: `Email ${n}`, params: { to: 'ceo@client.test', subject: `Quote ${n}`, body: 'Attached.' } })

const LIFECYCLE = ['approval.requested', 'approval.escalated', 'approval.decided', 'approval.expired', 'approval.cancelled', 'execution.finished']
/**
 * The verified payloads about one request, in the order of its events. Deliveries to one endpoint
 * are sent several at once, so they may arrive in any order (receivers order them by data.event.at);
 * events of one transaction share their time, and go in the order of a request's life.
 */
const about = (id: string) =>
  receiver
    .payloads()
    .filter((p) => p.data.request?.id === id)
    .sort((a, b) => a.data.event.at.localeCompare(b.data.event.at) || LIFECYCLE.indexOf(a.type) - LIFECYCLE.indexOf(b.type))

beforeAll(async () => {
  receiver = await startReceiver()
  server = await startServer({ clock, onQuery: (sql) => statements.push(sql), webhooks: { allowPrivateNetworks: true, random: () => 0.5 } })
  reviewer = await createUserWithToken(server, { email: 'rev@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  fallback = await createUserWithToken(server, { email: 'fb@example.com', name: 'Fred Fallback', roleKeys: ['member'] })
  const boss = await createUserWithToken(server, { email: 'boss@example.com', name: 'Bea Boss', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Mailer', ownerId: boss.id })
  endpointId = await endpointFor(receiver, ALL_EVENTS)
  const named = (id: string) => ({ type: 'NAMED_USER', userId: id })
  await createRule(server, { name: 'Mail', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'mail', primaryResolver: named(reviewer.id), fallbackResolver: named(fallback.id), expiresAfterSeconds: 3600 })
  await createRule(server, {
    name: 'Two stages',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    module: 'staged',
    primaryResolver: named(reviewer.id),
    nextStages: [{ name: 'Finance', primaryResolver: named(fallback.id) }],
  })
  await createRule(server, { name: 'Deals', resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', primaryResolver: named(reviewer.id) })
})
afterAll(async () => {
  await server?.destroy()
  await receiver?.close()
})

describe('webhooks', () => {
  it('reports every event type, signed (standardwebhooks verifies each), with the request as of that event', async () => {
    // requested and decided on the hot paths: single statements of data-modifying CTEs, where the
    // trigger must see the request as the whole statement left it (status, decider)
    statements = []
    const approved = await ask(email('mail', 1))
    expect((await decide(server, reviewer.token, approved, 'approveRequest', 'Fine')).errors).toBeUndefined()
    expect(transactions()).toEqual([]) // both took the single-statement paths
    const rejected = await ask(email('mail', 2))
    expect((await decide(server, reviewer.token, rejected, 'rejectRequest', 'Not to the CEO')).errors).toBeUndefined()
    // the approved action runs and finishes: execution.finished
    const lease = await server.gql(`mutation($id: ID!) { claimExecution(requestId: $id) { leaseToken } }`, { id: approved }, agent.token)
    const done = await server.gql(`mutation($t: String!) { completeExecution(leaseToken: $t, result: { messageId: "m-1" }) { id } }`, { t: lease.data.claimExecution.leaseToken }, agent.token)
    expect(done.errors).toBeUndefined()
    // escalated by a reviewer, then cancelled by its requester
    const escalated = await ask(email('mail', 3))
    expect((await server.gql(`mutation($id: ID!) { escalateRequest(id: $id, reason: "Out of my depth") { id } }`, { id: escalated }, reviewer.token)).errors).toBeUndefined()
    expect((await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id, reason: "Sent by phone") { id } }`, { id: escalated }, agent.token)).errors).toBeUndefined()
    // expired by the scheduler
    const expired = await ask(email('mail', 4))
    clock.advance(3601)
    const passed = await server.app.scheduler.runOnce()
    expect(passed.expired).toEqual([decodeGlobalID(expired).id])
    // a record mutation the server runs in the approving transaction
    const deal = await server.gql(`mutation { createRecord(input: { module: "deals", data: { name: "Acme" } }) { approvalRequest { id } } }`, {}, agent.token)
    const dealId = deal.data.createRecord.approvalRequest.id
    expect((await decide(server, reviewer.token, dealId, 'approveRequest')).errors).toBeUndefined()

    const sent = await server.app.webhooks.runOnce()
    await receiver.waitFor(sent)
    expect(receiver.received.map((r) => r.verifyError)).toEqual(receiver.received.map(() => null))
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(sent)

    expect(about(approved).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.decided', 'APPROVED'],
      ['execution.finished', 'APPROVED'],
    ])
    const [requested, decided, finished] = about(approved)
    expect(requested!.data.request).toMatchObject({
      id: approved,
      actionType: 'send_email',
      summary: 'Email 1',
      params: { to: 'ceo@client.test', subject: 'Quote 1', body: 'Attached.' },
      approvedParams: null,
      decidedBy: null,
      decisionComment: null,
      requester: { id: agent.id, name: 'Mailer', kind: 'AGENT' },
      rule: { name: 'Mail' },
    })
    expect(requested!.timestamp).toBe('2026-03-02T09:00:00.000Z')
    expect(decided!.data.request).toMatchObject({
      status: 'APPROVED',
      approvedParams: { to: 'ceo@client.test', subject: 'Quote 1', body: 'Attached.' },
      decidedBy: { id: reviewer.id, name: 'Rita Reviewer' },
      decisionComment: 'Fine',
    })
    expect(decided!.data.event).toMatchObject({ type: 'APPROVED', actor: { id: reviewer.id, name: 'Rita Reviewer' } })
    expect(finished!.data.execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { messageId: 'm-1' } })

    expect(about(rejected).map((p) => [p.type, p.data.request.status, p.data.request.decisionComment])).toEqual([
      ['approval.requested', 'PENDING', null],
      ['approval.decided', 'REJECTED', 'Not to the CEO'],
    ])
    expect(about(escalated).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.escalated', 'PENDING'],
      ['approval.cancelled', 'CANCELLED'],
    ])
    expect(about(escalated)[1]!.data.event.comment).toContain('Out of my depth')
    expect(about(expired).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.expired', 'EXPIRED'],
    ])
    expect(about(dealId).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.decided', 'APPROVED'],
      ['execution.finished', 'APPROVED'],
    ])
    // written after the record was made: the execution is in the payload
    expect(about(dealId)[2]!.data.execution).toMatchObject({ status: 'SUCCEEDED', attempts: 1 })

    // the admin screen shows each delivery as SUCCEEDED after one attempt, with its payload
    const listed = await server.gql(DELIVERIES, { id: endpointId }, server.ownerToken)
    const nodes = listed.data.webhookEndpoint.deliveries.edges.map((e: any) => e.node)
    expect(nodes).toHaveLength(sent)
    expect(nodes.every((n: any) => n.status === 'SUCCEEDED' && n.attempts === 1 && n.lastStatusCode === 204 && n.nextAttemptAt === null)).toBe(true)
    expect(nodes.map((n: any) => n.payload.type).sort()).toEqual(receiver.payloads().map((p) => p.type).sort())
  })

  it('reports what the scheduler does (delayed automatic approval, escalation) and an execution that fails for good, either way', async () => {
    receiver.received.length = 0
    await createRule(server, { name: 'Auto', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'auto', primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 60 } })
    await createRule(server, {
      name: 'Slow reviewer',
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      module: 'slow',
      primaryResolver: { type: 'NAMED_USER', userId: reviewer.id },
      fallbackResolver: { type: 'NAMED_USER', userId: fallback.id },
      escalateAfterSeconds: 60,
    })
    const auto = await ask(email('auto', 20))
    const slow = await ask(email('slow', 21))
    clock.advance(61)
    const passed = await server.app.scheduler.runOnce()
    expect(passed).toMatchObject({ autoApproved: [decodeGlobalID(auto).id], escalated: [decodeGlobalID(slow).id] })

    // the automatically approved action: its agent reports a failure that is final
    const claim = `mutation($id: ID!, $s: Int) { claimExecution(requestId: $id, leaseSeconds: $s) { leaseToken } }`
    const lease = (await server.gql(claim, { id: auto, s: 30 }, agent.token)).data.claimExecution.leaseToken
    const failed = await server.gql(`mutation($t: String!) { failExecution(leaseToken: $t, error: "SMTP said no", retryable: false) { id } }`, { t: lease }, agent.token)
    expect(failed.errors).toBeUndefined()
    // the escalated one, approved by the fallback: its worker's leases run out five times (the last attempt)
    expect((await decide(server, fallback.token, slow, 'approveRequest')).errors).toBeUndefined()
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await server.gql(claim, { id: slow, s: 30 }, agent.token)).errors).toBeUndefined()
      clock.advance(31)
      await server.app.scheduler.runOnce()
    }

    await server.app.webhooks.runOnce()
    expect(about(auto).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.decided', 'APPROVED'],
      ['execution.finished', 'APPROVED'],
    ])
    expect(about(auto)[1]!.data.request.decidedBy).toBeNull()
    expect(about(auto)[2]!.data.execution).toMatchObject({ status: 'FAILED', attempts: 1, error: 'SMTP said no' })
    expect(about(slow).map((p) => [p.type, p.data.request.status])).toEqual([
      ['approval.requested', 'PENDING'],
      ['approval.escalated', 'PENDING'],
      ['approval.decided', 'APPROVED'],
      ['execution.finished', 'APPROVED'],
    ])
    expect(about(slow)[3]!.data.execution).toMatchObject({ status: 'FAILED', attempts: 5 })
  })

  it('reports a staged request as decided only when its last stage approves it; VOTED and ADVANCED send nothing', async () => {
    receiver.received.length = 0
    const id = await ask(email('staged', 5))
    expect((await decide(server, reviewer.token, id, 'approveRequest')).data.approveRequest.status).toBe('PENDING')
    await server.app.webhooks.runOnce()
    expect(about(id).map((p) => p.type)).toEqual(['approval.requested'])
    expect((await decide(server, fallback.token, id, 'approveRequest')).data.approveRequest.status).toBe('APPROVED')
    await server.app.webhooks.runOnce()
    expect(about(id).map((p) => [p.type, p.data.request.status, p.data.request.stage])).toEqual([
      ['approval.requested', 'PENDING', 1],
      ['approval.decided', 'APPROVED', 2],
    ])
    expect(about(id)[1]!.data.request.decidedBy).toEqual({ id: fallback.id, name: 'Fred Fallback' })
  })

  it('reports bulk decisions one by one', async () => {
    receiver.received.length = 0
    const ids = [await ask(email('mail', 6)), await ask(email('mail', 7))]
    const bulk = await server.gql(`mutation($ids: [ID!]!) { decideRequests(ids: $ids, decision: REJECT, comment: "Batch") { request { id } } }`, { ids }, reviewer.token)
    expect(bulk.errors).toBeUndefined()
    await server.app.webhooks.runOnce()
    for (const id of ids) expect(about(id).map((p) => [p.type, p.data.request.status])).toEqual([['approval.requested', 'PENDING'], ['approval.decided', 'REJECTED']])
  })

  it('writes deliveries only for the event types an enabled endpoint wants', async () => {
    const other = await startReceiver()
    try {
      const otherId = await endpointFor(other, ['APPROVAL_DECIDED'])
      const id = await ask(email('mail', 8))
      await decide(server, reviewer.token, id, 'approveRequest')
      await server.app.webhooks.runOnce()
      const disabled = await server.gql(
        `mutation($id: ID!, $input: WebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { enabled events } }`,
        { id: otherId, input: { url: other.url, events: ['APPROVAL_DECIDED'], enabled: false } },
        server.ownerToken,
      )
      expect(disabled.data.updateWebhookEndpoint).toEqual({ enabled: false, events: ['APPROVAL_DECIDED'] })
      const later = await ask(email('mail', 9))
      await decide(server, reviewer.token, later, 'rejectRequest')
      await server.app.webhooks.runOnce()
      expect(other.payloads().map((p) => [p.type, p.data.request.id])).toEqual([['approval.decided', id]])
      const rows = await server.db.prisma.webhookDelivery.count({ where: { endpointId: decodeGlobalID(otherId).id } })
      expect(rows).toBe(1)
    } finally {
      await other.close()
    }
  })

  it('retries a receiver that fails five times on the schedule, then it succeeds; the log shows each attempt', async () => {
    const flaky = await startReceiver({ answer: (n) => (n <= 5 ? 503 : 200) })
    try {
      const flakyId = await endpointFor(flaky, ['APPROVAL_REQUESTED'])
      await ask(email('mail', 10))
      for (let attempt = 1; attempt <= 5; attempt++) {
        await server.app.webhooks.runOnce()
        expect(flaky.received).toHaveLength(attempt)
        const delivery = await server.db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: decodeGlobalID(flakyId).id } })
        const delay = nominalRetryDelayMs(attempt) // the jitter is pinned to its middle
        expect(delivery).toMatchObject({ status: 'PENDING', attempts: attempt, lastStatusCode: 503, lastError: 'HTTP 503' })
        expect(delivery.nextAttemptAt).toEqual(new Date(clock.now().getTime() + delay))
        // not before it is due
        clock.advance(delay / 1000 - 1)
        expect(await server.app.webhooks.runOnce()).toBe(0)
        clock.advance(1)
      }
      await server.app.webhooks.runOnce()
      expect(flaky.received).toHaveLength(6)
      expect(flaky.received.every((r) => r.verifyError === null)).toBe(true)
      // the same message on every attempt: receivers can drop repeats by webhook-id
      expect(new Set(flaky.received.map((r) => r.headers['webhook-id'])).size).toBe(1)
      const listed = await server.gql(DELIVERIES, { id: flakyId }, server.ownerToken)
      const [node] = listed.data.webhookEndpoint.deliveries.edges.map((e: any) => e.node)
      expect(node).toMatchObject({ status: 'SUCCEEDED', attempts: 6, lastStatusCode: 200, lastError: null, nextAttemptAt: null })
      expect(node.attemptLog).toEqual([
        { attempt: 6, statusCode: 200, error: null },
        ...[5, 4, 3, 2, 1].map((attempt) => ({ attempt, statusCode: 503, error: 'HTTP 503' })),
      ])

      // redelivered: sent again at once, as a seventh attempt of the same message
      const again = await server.gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status attempts nextAttemptAt } }`, { id: node.id }, server.ownerToken)
      expect(again.data.redeliverWebhook).toEqual({ status: 'PENDING', attempts: 6, nextAttemptAt: clock.now().toISOString() })
      expect(await server.app.webhooks.runOnce()).toBe(1)
      expect(flaky.received).toHaveLength(7)
      expect(flaky.received[6]!.headers['webhook-id']).toBe(flaky.received[0]!.headers['webhook-id'])
      expect(flaky.received[6]!.verifyError).toBeNull()
      const after = await server.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: decodeGlobalID(node.id).id } })
      expect(after).toMatchObject({ status: 'SUCCEEDED', attempts: 7 })
    } finally {
      await flaky.close()
    }
  })

  it('gives a delivery up after ten failed attempts (about a day); a redelivery is one more attempt', async () => {
    const dead = await startReceiver({ answer: () => 500 })
    try {
      const deadId = await endpointFor(dead, ['APPROVAL_REQUESTED'])
      await ask(email('mail', 11))
      const row = () => server.db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: decodeGlobalID(deadId).id } })
      for (let i = 0; i < 10; i++) {
        await server.app.webhooks.runOnce()
        expect(dead.received).toHaveLength(i + 1)
        const next = (await row()).nextAttemptAt
        if (next) clock.advance((next.getTime() - clock.now().getTime()) / 1000)
      }
      const delivery = await row()
      expect(delivery).toMatchObject({ status: 'FAILED', attempts: 10, nextAttemptAt: null, lastStatusCode: 500 })
      expect(dead.received).toHaveLength(10)
      // the schedule of retry-schedule.ts: nine waits between ten attempts, about a day in all
      const times = (await server.db.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id }, orderBy: { id: 'asc' } })).map((a) => a.at.getTime())
      const waits = times.slice(1).map((t, i) => t - times[i]!)
      expect(waits).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(nominalRetryDelayMs))
      expect(times[9]! - times[0]!).toBe(84_905_000) // 23.6 hours
      expect(await server.app.webhooks.runOnce()).toBe(0)
      const again = await server.gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, { id: Buffer.from(`WebhookDelivery:${delivery.id}`).toString('base64') }, server.ownerToken)
      expect(again.errors).toBeUndefined()
      expect(await server.app.webhooks.runOnce()).toBe(1)
      expect(await server.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: 'FAILED', attempts: 11 })
    } finally {
      await dead.close()
    }
  })

  it('sends a test event on demand (webhook.test), signed like the others', async () => {
    receiver.received.length = 0
    const res = await server.gql(`mutation($id: ID!) { sendTestWebhook(id: $id) { id eventType status payload } }`, { id: endpointId }, server.ownerToken)
    expect(res.data.sendTestWebhook).toMatchObject({ eventType: 'WEBHOOK_TEST', status: 'PENDING' })
    await server.app.webhooks.runOnce()
    expect(receiver.received.map((r) => r.verifyError)).toEqual([null])
    expect(receiver.payloads()).toEqual([{ type: 'webhook.test', timestamp: clock.now().toISOString(), data: { endpoint: { id: endpointId, url: receiver.url }, message: expect.any(String) } }])
    const node = await server.gql(`query($id: ID!) { node(id: $id) { ... on WebhookDelivery { status attempts lastStatusCode } } }`, { id: res.data.sendTestWebhook.id }, server.ownerToken)
    expect(node.data.node).toEqual({ status: 'SUCCEEDED', attempts: 1, lastStatusCode: 204 })
  })

  it('refuses every webhook field and mutation to a principal without approval:manage', async () => {
    const manager = await createUserWithToken(server, { email: 'mgr@example.com', name: 'Manager', roleKeys: ['manager'] })
    const deliveryId = (await server.db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: decodeGlobalID(endpointId).id } })).id
    const delivery = Buffer.from(`WebhookDelivery:${deliveryId}`).toString('base64')
    const input = { url: 'https://hooks.example.com/x', events: ['APPROVAL_DECIDED'] }
    const operations: [string, Record<string, unknown>][] = [
      [`{ webhookEndpoints { id } }`, {}],
      [`query($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id: endpointId }],
      [CREATE, { input }],
      [`mutation($id: ID!, $input: WebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { id } }`, { id: endpointId, input }],
      [`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpointId }],
      [`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }`, { id: delivery }],
      [`mutation($id: ID!) { sendTestWebhook(id: $id) { id } }`, { id: endpointId }],
    ]
    for (const token of [reviewer.token, manager.token, agent.token]) {
      for (const [query, variables] of operations) expect(codes(await server.gql(query, variables, token))).toEqual(['FORBIDDEN'])
      for (const id of [endpointId, delivery]) expect((await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, token)).data.node).toBeNull()
    }
    for (const [query, variables] of operations) expect(codes(await server.gql(query, variables))).toEqual(['UNAUTHENTICATED'])
    // nothing changed, and the owner still sees it all
    const owner = await server.gql(`{ webhookEndpoints { id url } }`, {}, server.ownerToken)
    expect(owner.data.webhookEndpoints.map((e: any) => e.id)).toContain(endpointId)
    expect(await server.db.prisma.webhookEndpoint.count({ where: { url: input.url } })).toBe(0)
  })

  it('checks an endpoint on input: events, lengths; the secret is shown once; deleting takes its deliveries', async () => {
    const bad = async (input: Record<string, unknown>) => {
      const res = await server.gql(CREATE, { input }, server.ownerToken)
      return [codes(res), res.errors?.[0]?.extensions?.field]
    }
    expect(await bad({ url: receiver.url, events: [] })).toEqual([['BAD_USER_INPUT'], 'input.events'])
    expect(await bad({ url: receiver.url, events: ['WEBHOOK_TEST'] })).toEqual([['BAD_USER_INPUT'], 'input.events'])
    expect(await bad({ url: 'ftp://example.com/x', events: ['APPROVAL_DECIDED'] })).toEqual([['BAD_USER_INPUT'], 'input.url'])
    expect(await bad({ url: 'https://user:pw@example.com/x', events: ['APPROVAL_DECIDED'] })).toEqual([['BAD_USER_INPUT'], 'input.url'])
    expect(await bad({ url: `https://example.com/${'x'.repeat(2001)}`, events: ['APPROVAL_DECIDED'] })).toEqual([['BAD_USER_INPUT'], 'input.url'])
    expect(await bad({ url: 'https://example.com/x', events: ['APPROVAL_DECIDED'], description: 'd'.repeat(501) })).toEqual([['BAD_USER_INPUT'], 'input.description'])

    const created = await server.gql(CREATE, { input: { url: 'https://hooks.example.com/a', events: ['APPROVAL_DECIDED', 'APPROVAL_REQUESTED', 'APPROVAL_DECIDED'] } }, server.ownerToken)
    const { secret, endpoint } = created.data.createWebhookEndpoint
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32)
    expect(endpoint.events).toEqual(['APPROVAL_REQUESTED', 'APPROVAL_DECIDED'])
    // no field of the API shows it again
    const listed = await server.gql(`{ webhookEndpoints { id url description events enabled createdAt updatedAt } }`, {}, server.ownerToken)
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6))
    expect((await server.gql(`{ webhookEndpoints { secret } }`, {}, server.ownerToken)).errors?.[0]?.message).toMatch(/Cannot query field "secret"/)

    const id = await ask(email('mail', 12))
    await decide(server, reviewer.token, id, 'approveRequest')
    const dbId = decodeGlobalID(endpoint.id).id
    expect(await server.db.prisma.webhookDelivery.count({ where: { endpointId: dbId } })).toBe(2)
    expect((await server.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }, server.ownerToken)).data.deleteWebhookEndpoint).toBe(true)
    expect(await server.db.prisma.webhookDelivery.count({ where: { endpointId: dbId } })).toBe(0)
    expect(codes(await server.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpoint.id }, server.ownerToken))).toEqual(['NOT_FOUND'])
  })
})
