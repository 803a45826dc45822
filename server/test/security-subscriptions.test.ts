// One client must not take the service down through subscriptions: abandoned subscriptions
// stop working at once, a refused subscription never starts, and subscriptions are served over
// WebSocket only, where the per-principal limits and revocation apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { collect, createAgentWithToken, createRule, createUserWithToken, requestApproval, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
let server: TestServer
let queries = 0
let carol: Principal, agent: Principal

const DECISION = `subscription($id: ID!) { approvalDecision(requestId: $id) { id status } }`
const INBOX = `subscription { approvalInbox { type request { id } } }`

beforeAll(async () => {
  // a short catch-up interval: a subscription left running would query ten times a second
  server = await startServer({ catchUpIntervalMs: 100, onQuery: () => void queries++, maxSubscriptionsPerPrincipal: 5000 })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  agent = await createAgentWithToken(server, { name: 'Waiter' })
  await createRule(server, { name: 'posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
})
afterAll(() => server?.destroy())

/**
 * A bare graphql-transport-ws client that runs `count` subscriptions on one socket, so that the
 * test can drop the socket the way a crashed client or a cut network does: no complete, no
 * close handshake.
 */
async function rawSubscriptions(url: string, token: string, query: string, variables: object, count: number): Promise<WebSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws')
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }))
  await new Promise<void>((resolve) => socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve()))
  for (let i = 0; i < count; i++) socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query, variables } }))
  return socket
}

/** Statements the server sends to the database during `ms` (no timer of ours runs in tests: the scheduler is off). */
async function statementsDuring(ms: number): Promise<number> {
  const start = queries
  await new Promise((r) => setTimeout(r, ms))
  return queries - start
}

describe('abandoned subscriptions', () => {
  it('1,000 closed subscriptions (completed, socket closed, socket dropped) stop querying the database at once', async () => {
    const request = (await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'x' } })).data.requestApproval.request
    const rssBefore = process.memoryUsage().rss
    const subscribed = server.subscribed('approvalDecision', 1000)
    // 400 through graphql-ws clients, 600 on bare sockets
    const clients = Array.from({ length: 4 }, () => server.ws(agent.token))
    const subs = clients.flatMap((client) => Array.from({ length: 100 }, () => collect(client, DECISION, { id: request.id })))
    const bare = await Promise.all(Array.from({ length: 6 }, () => rawSubscriptions(server.wsUrl, agent.token, DECISION, { id: request.id }, 100)))
    await subscribed
    expect(await statementsDuring(300)).toBeGreaterThan(100) // they are waiting, re-reading the state
    // some complete their subscription, some close their socket, some drop it
    subs.forEach((s) => s.dispose())
    await Promise.all(clients.map((c) => c.dispose()))
    bare.slice(0, 3).forEach((socket) => socket.close(1000))
    bare.slice(3).forEach((socket) => socket.terminate())
    await Promise.all([server.waitForSocketCount(0), server.waitForSubscriptionCount(0)])
    const closedAt = Date.now()
    // statements already queued finish (at most one per subscription); then nothing more runs:
    // the idle rate (zero: the scheduler is off in tests) within two seconds
    let drained = (await statementsDuring(200)) === 0
    while (!drained && Date.now() - closedAt < 2000) drained = (await statementsDuring(200)) === 0
    expect(Date.now() - closedAt).toBeLessThan(2000)
    expect(await statementsDuring(500)).toBe(0)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
  })

  it('an idle inbox subscription that was closed no longer reacts to events', async () => {
    const subscribed = server.subscribed('approvalInbox')
    const inbox = collect(server.ws(carol.token), INBOX)
    await subscribed
    inbox.dispose()
    await server.waitForSubscriptionCount(0)
    const before = queries
    // a request for carol: only the request's own statements run, none for the closed subscription's visibility check
    const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'y' } })
    expect(res.errors).toBeUndefined()
    const forRequest = queries - before
    expect(await statementsDuring(200)).toBe(0)
    expect(forRequest).toBeGreaterThan(0)
  })
})

describe('refused subscriptions', () => {
  it('a principal without approval:resolve is refused the inbox before its stream starts (no database read)', async () => {
    const role = await server.db.prisma.role.create({ data: { key: 'observer', name: 'Observer', permissions: [] } })
    const watcher = await createUserWithToken(server, { email: 'watch@example.com', name: 'Watcher', roleKeys: ['observer'] })
    expect(role.key).toBe('observer')
    const client = server.ws(watcher.token)
    const run = async (query: string) => {
      const before = queries
      const sub = collect(client, query)
      const errors = await sub.completed.then(
        () => sub.events.flatMap((e) => e.errors ?? []),
        (errs) => errs,
      )
      return { errors, statements: queries - before, data: sub.events.map((e) => e.data) }
    }
    // each operation authenticates its token: that is the baseline
    const baseline = await run('{ viewer { permissions } }')
    expect(baseline.data).toEqual([{ viewer: { permissions: [] } }])
    const refused = await run(INBOX)
    expect(refused.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })])
    expect(refused.data.filter((d) => d?.approvalInbox)).toEqual([])
    // nothing beyond authentication: the stream (which reads the viewer's inbox first) never started
    expect(refused.statements).toBeLessThanOrEqual(baseline.statements)
  })

  it('subscriptions over HTTP (server-sent events) are refused: they would escape the WebSocket limits and revocation', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${carol.token}` },
      body: JSON.stringify({ query: INBOX }),
    })
    const text = await res.text()
    expect(text).toMatch(/WebSocket/)
    expect(text).not.toMatch(/"approvalInbox":\{/)
  })
})
