// /metrics: who may read it where, and what it counts (from real operations, read as Prometheus text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, ManualClock, startServer, type TestServer } from './harness.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

const TOKEN = 'metrics-scraper-token-0123456789'
const clock = new ManualClock(new Date('2026-03-02T09:00:00.000Z'))
let server: TestServer
let receiver: Receiver
let rita: { id: string; token: string }
let agent: { id: string; token: string }
let base: string

beforeAll(async () => {
  server = await startServer({ clock, metricsToken: TOKEN, webhooks: { allowPrivateNetworks: true } })
  base = server.url.replace(/\/graphql$/, '')
  receiver = await startReceiver()
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Mailer' })
  await createRule(server, { name: 'Emails', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: rita.id }, expiresAfterSeconds: 3600 })
})
afterAll(async () => {
  await server?.destroy()
  await receiver?.close()
})

const scrape = async (url = `${base}/metrics`, token: string | null = TOKEN) => {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') }
}

/** The value of one sample, `name{labels}`, in Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3])
  }
  return undefined
}

async function ask(subject: string): Promise<string> {
  const res = await server.gql(
    `mutation AskToSend($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'a@example.com', subject, body: 'x' } } },
    agent.token,
  )
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

describe('/metrics', () => {
  it('on the main port, only for a request bearing APPROVALS_METRICS_TOKEN', async () => {
    expect((await scrape(undefined, null)).status).toBe(401)
    expect((await scrape(undefined, 'not-the-token-at-all-0000000000')).status).toBe(401)
    const ok = await scrape()
    expect(ok.status).toBe(200)
    expect(ok.type).toContain('text/plain')
    expect(ok.text).toContain('# TYPE approvals_pending_requests gauge')
  })

  it('is not there at all on a server without a token', async () => {
    const other = await startServer()
    try {
      const res = await fetch(other.url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } })
      expect(res.status).toBe(404)
    } finally {
      await other.destroy()
    }
  })

  it('on METRICS_PORT, bound to loopback, without a token', async () => {
    const port = await server.app.listenMetrics(0)
    const res = await scrape(`http://127.0.0.1:${port}/metrics`, null)
    expect(res.status).toBe(200)
    expect(res.text).toContain('approvals_decisions_total')
  })

  it('counts operations by name and outcome, pending requests by action type, decisions by outcome and resolver, and time to decision', async () => {
    const approved = await ask('approve me')
    const rejected = await ask('reject me')
    await ask('leave me pending')
    clock.advance(90)
    await server.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id: approved }, rita.token)
    await server.gql(`mutation($id: ID!) { rejectRequest(id: $id, comment: "no") { status } }`, { id: rejected }, rita.token)
    await server.app.audit.runOnce()
    const { text } = await scrape()
    expect(sample(text, 'approvals_pending_requests', { action_type: 'send_email' })).toBe(1)
    expect(sample(text, 'approvals_decisions_total', { outcome: 'APPROVED', resolver: 'NAMED_USER', by: 'user' })).toBe(1)
    expect(sample(text, 'approvals_decisions_total', { outcome: 'REJECTED', resolver: 'NAMED_USER', by: 'user' })).toBe(1)
    // both were decided 90 s after they were asked
    expect(sample(text, 'approvals_decision_seconds_count', { outcome: 'APPROVED' })).toBe(1)
    expect(sample(text, 'approvals_decision_seconds_bucket', { outcome: 'APPROVED', le: '60' })).toBe(0)
    expect(sample(text, 'approvals_decision_seconds_bucket', { outcome: 'APPROVED', le: '300' })).toBe(1)
    // the GraphQL operations, by name
    expect(sample(text, 'graphql_envelop_request_duration_count', { operationName: 'AskToSend', operationType: 'mutation' })).toBe(3)
  })

  it('counts each event once however many times it is scraped, and expirations, with the scheduler lag while a deadline is overdue', async () => {
    const before = sample((await scrape()).text, 'approvals_decisions_total', { outcome: 'EXPIRED', resolver: 'NAMED_USER', by: 'service' }) ?? 0
    clock.advance(3600)
    // overdue, and the scheduler has not run: that is its lag
    const late = await scrape()
    expect(sample(late.text, 'approvals_scheduler_lag_seconds')).toBeGreaterThan(0)
    await server.app.scheduler.runOnce()
    await server.app.audit.runOnce()
    const after = await scrape()
    expect(sample(after.text, 'approvals_scheduler_lag_seconds')).toBe(0)
    expect(sample(after.text, 'approvals_decisions_total', { outcome: 'EXPIRED', resolver: 'NAMED_USER', by: 'service' })).toBe(before + 1)
    expect(sample(after.text, 'approvals_pending_requests', { action_type: 'send_email' })).toBeUndefined()
    await server.app.audit.runOnce()
    expect(sample((await scrape()).text, 'approvals_decisions_total', { outcome: 'EXPIRED', resolver: 'NAMED_USER', by: 'service' })).toBe(before + 1)
  })

  it('counts webhook deliveries by outcome, and open WebSocket connections and subscriptions', async () => {
    const created = await server.gql(
      `mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
      { input: { url: receiver.url, events: ['APPROVAL_REQUESTED'] } },
      server.ownerToken,
    )
    expect(created.errors).toBeUndefined()
    await ask('tell the webhook')
    await server.app.webhooks.runOnce()
    await receiver.waitFor(1)
    expect(sample((await scrape()).text, 'approvals_deliveries_total', { channel: 'webhook', outcome: 'succeeded' })).toBe(1)

    const subscribed = server.subscribed('approvalInbox')
    const client = server.ws(rita.token)
    const events = client.iterate({ query: 'subscription { approvalInbox { type } }' })
    void events.next()
    await subscribed
    const text = (await scrape()).text
    expect(sample(text, 'approvals_websocket_connections')).toBe(1)
    expect(sample(text, 'approvals_websocket_operations')).toBe(1)
    await events.return?.()
  })
})
