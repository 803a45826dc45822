// One client, however it misbehaves, cannot degrade the service for others (ARCHITECTURE.md):
// connection floods per token, subscription floods per principal, request floods per principal,
// and a revoked token that keeps its open WebSockets. Real servers, real clients; every wait is on
// a real event (a close, the server's connection registry changing), never a sleep.
import { getNamedType, isInterfaceType, isObjectType } from 'graphql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient, type Client } from 'graphql-ws'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { hashToken } from '../src/auth/tokens.js'
import type { ConnectionRegistry } from '../src/limits/connections.js'
import {
  codes,
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  freePort,
  startServer,
  wsRequest,
  type TestServer,
} from './harness.js'

const INBOX = `subscription { approvalInbox { type request { id } } }`

let limited: TestServer
let rated: TestServer
let swept: TestServer

beforeAll(async () => {
  ;[limited, rated, swept] = await Promise.all([
    startServer({ maxConnectionsPerToken: 2, maxSubscriptionsPerPrincipal: 3, accessSweepIntervalMs: 0 }),
    startServer({ rateLimitPerMinute: 5 }),
    startServer({ accessSweepIntervalMs: 100 }),
  ])
})
const clients: Client[] = []
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()))
  await Promise.all([limited, rated, swept].map((s) => s?.destroy()))
})

type Closed = { code: number; reason: string }
interface Issued {
  token: string
  /** The token's global ID, for revokeApiToken. */
  globalId: string
  /** Database ids, as the server's registry and the accessRevoked event know them. */
  tokenId: string
  principalId: string
}

/** A new token for a principal (by global ID), issued by the owner through the API. */
async function issueToken(server: TestServer, principalGlobalId: string): Promise<Issued> {
  const res = await server.gql(
    `mutation($id: ID!) { createApiToken(principalId: $id, name: "extra") { token apiToken { id } } }`,
    { id: principalGlobalId },
    server.ownerToken,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  const token = res.data.createApiToken.token as string
  const row = await server.db.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(token) } })
  return { token, globalId: res.data.createApiToken.apiToken.id, tokenId: row.id, principalId: (row.userId ?? row.agentId)! }
}

/** A graphql-ws connection: resolves once acknowledged, or rejects with how it was closed. */
async function connect(server: TestServer, token: string): Promise<{ client: Client; closed: Promise<Closed> }> {
  let onClose!: (e: Closed) => void
  // ws's CloseEvent keeps code and reason behind getters: copy them
  const closed = new Promise<Closed>((resolve) => (onClose = (e) => resolve({ code: e.code, reason: e.reason })))
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { closed: (e) => onClose(e as Closed) },
    // the refusals are what these tests expect: not worth a console.error
    onNonLazyError: () => {},
  })
  clients.push(client)
  await new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve())
    void closed.then((e) => reject(Object.assign(new Error(`closed: ${e.code} ${e.reason}`), e)))
  })
  return { client, closed }
}

/** The close of a connection refused at connection_init. */
const refusedWith = (attempt: Promise<unknown>) =>
  attempt.then(
    () => {
      throw new Error('the connection was accepted')
    },
    (e: Closed) => ({ code: e.code, reason: e.reason }),
  )

/** Waits for the server's registry to reach a state; fails with its counts rather than hanging. */
function registryReaches(server: TestServer, predicate: (r: ConnectionRegistry) => boolean, what: string, ms = 10_000) {
  const registry = server.app.connections
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registry never reached: ${what}; now ${JSON.stringify(registry.stats())}`)), ms)
    void registry.until(predicate).then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** A graphql-ws session over a bare socket, for ending it the rudest way: a TCP drop with no close frame. */
async function rawSession(server: TestServer, token: string) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws')
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }))
  await new Promise<void>((resolve) => socket.once('message', () => resolve()))
  return {
    subscribe: (id: string, query: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } })),
    drop: () => socket.terminate(),
  }
}

describe('connection flood: open WebSockets per token', () => {
  it('closes the N+1th connection of a token with 4429, and a closed one makes room', async () => {
    const user = await createUserWithToken(limited, { email: 'flood@example.com', name: 'Flood', roleKeys: ['member'] })
    const main = await issueToken(limited, user.id)
    const a = await connect(limited, main.token)
    await connect(limited, main.token)
    expect(await refusedWith(connect(limited, main.token))).toEqual({ code: 4429, reason: 'Too many connections for this token' })

    // per token: another token of the same user still connects
    const other = await issueToken(limited, user.id)
    await connect(limited, other.token)

    await a.client.dispose()
    await registryReaches(limited, (r) => r.stats(main.principalId).connections === 2, 'the first connection gone')
    const again = await connect(limited, main.token)
    expect((await wsRequest(again.client, `{ viewer { principal { name } } }`)).data.viewer.principal.name).toBe('Flood')
  })

  it('counts nothing after many connections end in every way (no leak)', async () => {
    const user = await createUserWithToken(limited, { email: 'churn@example.com', name: 'Churn', roleKeys: ['member'] })
    const { token, principalId } = await issueToken(limited, user.id)
    const idle = () => registryReaches(limited, (r) => r.stats(principalId).connections === 0 && r.stats(principalId).operations === 0, 'nothing counted')

    for (let i = 0; i < 12; i++) {
      if (i % 3 === 2) {
        // a TCP drop with subscriptions running
        const raw = await rawSession(limited, token)
        raw.subscribe('a', INBOX)
        raw.subscribe('b', INBOX)
        await registryReaches(limited, (r) => r.stats(principalId).operations === 2, 'two running')
        raw.drop()
      } else {
        const { client } = await connect(limited, token)
        // one completed by the client, one refused at validation, one failing at run time, one left running
        const completed = collect(client, INBOX)
        const invalid = collect(client, `subscription { noSuchField }`)
        const failing = collect(client, `subscription { approvalDecision(requestId: "QXBwcm92YWxSZXF1ZXN0Om5vbmU=") { id } }`)
        await expect(invalid.completed).rejects.toBeDefined()
        await failing.completed.catch(() => {})
        const running = collect(client, INBOX)
        await registryReaches(limited, (r) => r.stats(principalId).operations === 2, 'two running')
        completed.dispose()
        await registryReaches(limited, (r) => r.stats(principalId).operations === 1, 'one running')
        if (i % 3 === 1) running.dispose()
        await client.dispose()
      }
      await idle()
    }
    // the token's two places and the principal's three operations are all free
    const [x, y] = await Promise.all([connect(limited, token), connect(limited, token)])
    for (const c of [x, x, y]) collect(c.client, INBOX)
    await registryReaches(limited, (r) => r.stats(principalId).operations === 3, 'three running')
    await Promise.all([x.client.dispose(), y.client.dispose()])
    await idle()
  })
})

describe('subscription flood: operations per principal across connections', () => {
  it('refuses the M+1th subscription of one principal with RATE_LIMITED, and completing one frees a place', async () => {
    const user = await createUserWithToken(limited, { email: 'subs@example.com', name: 'Subs', roleKeys: ['member'] })
    const first = await issueToken(limited, user.id)
    const second = await issueToken(limited, user.id)
    const one = await connect(limited, first.token)
    const two = await connect(limited, second.token)
    const s1 = collect(one.client, INBOX)
    collect(one.client, INBOX)
    collect(two.client, INBOX)
    await registryReaches(limited, (r) => r.stats(first.principalId).operations === 3, 'three running')

    const refused = collect(two.client, INBOX)
    await expect(refused.completed).rejects.toEqual([
      expect.objectContaining({ message: expect.stringMatching(/At most 3 subscriptions/), extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ])

    // another principal is not affected
    const bob = await createUserWithToken(limited, { email: 'bob-subs@example.com', name: 'Bob', roleKeys: ['member'] })
    const bobs = await issueToken(limited, bob.id)
    const bobConnection = await connect(limited, bobs.token)
    collect(bobConnection.client, INBOX)
    await registryReaches(limited, (r) => r.stats(bobs.principalId).operations === 1, 'bob running')

    s1.dispose()
    await registryReaches(limited, (r) => r.stats(first.principalId).operations === 2, 'one completed')
    const admitted = collect(two.client, INBOX)
    await registryReaches(limited, (r) => r.stats(first.principalId).operations === 3, 'the new one running')
    expect(admitted.events).toEqual([])
    await Promise.all([one.client.dispose(), two.client.dispose(), bobConnection.client.dispose()])
  })
})

describe('request flood: rate limit per principal on creating and deciding requests', () => {
  let reviewer: { id: string; token: string }
  const ask = (token: string, n: number) =>
    rated.gql(
      `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id } } }`,
      { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: `post ${n}` } } },
      token,
    )

  beforeAll(async () => {
    reviewer = await createUserWithToken(rated, { email: 'rate-reviewer@example.com', name: 'Rita', roleKeys: ['member'] })
    await createRule(rated, { name: 'gate', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  })

  it('refuses the 6th requestApproval in a minute with RATE_LIMITED, 429 and Retry-After, storing nothing; others are unaffected', async () => {
    const agent = await createAgentWithToken(rated, { name: 'Flooder' })
    const stored = () => rated.db.prisma.approvalRequest.count()
    const before = await stored()
    for (let i = 1; i <= 5; i++) {
      const res = await ask(agent.token, i)
      expect(res.errors).toBeUndefined()
      expect(res.data.requestApproval.approvalRequired).toBe(true)
    }
    expect(await stored()).toBe(before + 5)

    const res = await fetch(rated.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` },
      body: JSON.stringify({
        query: `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`,
        variables: { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: 'post 6' } } },
      }),
    })
    expect(res.status).toBe(429)
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    const body = await res.json()
    expect(body.data ?? null).toBeNull()
    expect(body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/retry in \d+ s/i), extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })])
    expect(await stored()).toBe(before + 5)

    // over WebSocket too
    const viaWs = await wsRequest(rated.ws(agent.token), `mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "post_to_social", params: { text: "ws" } }) { request { id } } }`)
    expect(codes(viaWs)).toEqual(['RATE_LIMITED'])
    expect(await stored()).toBe(before + 5)
    // reads are not limited
    expect((await rated.gql(`{ viewer { principal { name } } }`, {}, agent.token)).data.viewer.principal.name).toBe('Flooder')

    // another agent, and the reviewer deciding, are not affected
    const other = await createAgentWithToken(rated, { name: 'Neighbour' })
    const theirs = await ask(other.token, 1)
    expect(theirs.errors).toBeUndefined()
    expect(await stored()).toBe(before + 6)
    const decided = await rated.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id: theirs.data.requestApproval.request.id }, reviewer.token)
    expect(decided.data.approveRequest.status).toBe('APPROVED')
  })

  it('counts every limited field of an operation, aliases included, and runs none of a refused one', async () => {
    const agent = await createAgentWithToken(rated, { name: 'Aliaser' })
    const before = await rated.db.prisma.approvalRequest.count()
    const fields = Array.from(
      { length: 6 },
      (_, i) => `a${i}: requestApproval(input: { resourceType: AGENT_ACTION, actionType: "post_to_social", params: { text: "alias ${i}" } }) { request { id } }`,
    )
    const res = await rated.gql(`mutation { ... on Mutation { ${fields.join(' ')} } }`, {}, agent.token)
    expect(codes(res)).toEqual(['RATE_LIMITED'])
    expect(await rated.db.prisma.approvalRequest.count()).toBe(before)
  })
})

describe('rate limit while Redis is unreachable', () => {
  it('lets calls through, counting in memory instead (fails open, still limited per instance)', async () => {
    // main.ts's publishing client, pointed at a port where no Redis listens
    const down = new Redis(await freePort(), '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    const server = await startServer({ rateLimitPerMinute: 5, rateLimitRedis: down })
    try {
      const agent = await createAgentWithToken(server, { name: 'Offline' })
      const ask = (n: number) =>
        server.gql(
          `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired } }`,
          { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params: { text: `post ${n}` } } },
          agent.token,
        )
      for (let i = 1; i <= 5; i++) expect((await ask(i)).errors).toBeUndefined()
      expect(codes(await ask(6))).toEqual(['RATE_LIMITED'])
    } finally {
      await server.destroy()
      down.disconnect()
    }
  })
})

describe('a revoked token keeps no open WebSocket', () => {
  it('closes the sockets of a revoked token with 4403 as soon as accessRevoked is published, and only those', async () => {
    const user = await createUserWithToken(limited, { email: 'revoked@example.com', name: 'Rev', roleKeys: ['member'] })
    const doomed = await issueToken(limited, user.id)
    const kept = await issueToken(limited, user.id)
    const connection = await connect(limited, doomed.token)
    const inbox = collect(connection.client, INBOX)
    const survivor = await connect(limited, kept.token)
    await registryReaches(limited, (r) => r.stats(doomed.principalId).operations === 1, 'subscribed')

    const revoked = await limited.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: doomed.globalId }, limited.ownerToken)
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
    await limited.app.pubsub.publish('accessRevoked', { tokenId: doomed.tokenId })

    expect(await connection.closed).toEqual({ code: 4403, reason: 'Forbidden: token revoked' })
    await expect(inbox.completed).rejects.toBeDefined()
    expect((await wsRequest(survivor.client, `{ viewer { principal { name } } }`)).data.viewer.principal.name).toBe('Rev')
    await survivor.client.dispose()
  })

  it('closes the sockets of a disabled agent with 4403 on accessRevoked for the principal', async () => {
    const agent = await createAgentWithToken(limited, { name: 'Disabled soon' })
    const connection = await connect(limited, agent.token)
    const row = await limited.db.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(agent.token) } })
    await limited.db.prisma.agent.update({ where: { id: row.agentId! }, data: { enabled: false } })
    await limited.app.pubsub.publish('accessRevoked', { principalId: row.agentId! })
    expect(await connection.closed).toEqual({ code: 4403, reason: 'Forbidden: agent disabled' })
  })

  it('closes them by the periodic sweep when no event arrives (lost while Redis was down)', async () => {
    const user = await createUserWithToken(swept, { email: 'swept@example.com', name: 'Swept', roleKeys: ['member'] })
    const doomed = await issueToken(swept, user.id)
    const kept = await issueToken(swept, user.id)
    const connection = await connect(swept, doomed.token)
    const survivor = await connect(swept, kept.token)
    const revoked = await swept.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: doomed.globalId }, swept.ownerToken)
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
    expect(await connection.closed).toEqual({ code: 4403, reason: 'Forbidden: token revoked' })

    const agent = await createAgentWithToken(swept, { name: 'Swept agent' })
    const agentConnection = await connect(swept, agent.token)
    const row = await swept.db.prisma.apiToken.findUniqueOrThrow({ where: { tokenHash: hashToken(agent.token) } })
    await swept.db.prisma.agent.update({ where: { id: row.agentId! }, data: { enabled: false } })
    expect(await agentConnection.closed).toEqual({ code: 4403, reason: 'Forbidden: agent disabled' })

    expect((await wsRequest(survivor.client, `{ viewer { principal { name } } }`)).data.viewer.principal.name).toBe('Swept')
    await survivor.client.dispose()
  })
})

describe('payload floods: sizes, depth, text and query cost', () => {
  let server: TestServer
  let agent: { id: string; token: string }
  let reviewer: { id: string; token: string }
  const ASK = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired } }`
  const post = (params: unknown, extra: Record<string, unknown> = {}) =>
    server.gql(ASK, { i: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', params, ...extra } }, agent.token)
  const stored = () => server.db.prisma.approvalRequest.count()

  beforeAll(async () => {
    server = await startServer({ maxJsonBytes: 64 * 1024 })
    reviewer = await createUserWithToken(server, { email: 'payload@example.com', name: 'Payload', roleKeys: ['member'] })
    agent = await createAgentWithToken(server, { name: 'Payload bot' })
    await createRule(server, { name: 'posts', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
  })
  afterAll(() => server?.destroy())

  it('params or context past the size limit are BAD_USER_INPUT and store nothing', async () => {
    const before = await stored()
    const big = 'x'.repeat(70 * 1024)
    expect((await post({ text: big })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.params' })
    expect((await post({ text: 'hi' }, { context: { note: big } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.context' })
    expect((await post({ text: 'x'.repeat(60 * 1024) })).data.requestApproval.approvalRequired).toBe(true)
    expect(await stored()).toBe(before + 1)
  })

  it('JSON nested 10,000 deep, NUL characters and lone surrogates are BAD_USER_INPUT, not a 500', async () => {
    const before = await stored()
    // written by hand: JSON.stringify would overflow this process's stack first
    const deepBody = `{"query":${JSON.stringify(ASK)},"variables":{"i":{"resourceType":"AGENT_ACTION","actionType":"post_to_social","params":{"text":"hi","extra":${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}}}}}`
    const deepPost = fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` }, body: deepBody }).then(
      async (res) => (await res.json()) as { errors?: { extensions?: { code?: string } }[] },
    )
    // params itself is the first level
    const nested = (levels: number) => {
      let value: unknown = ['bottom']
      for (let i = 1; i < levels - 1; i++) value = [value]
      return value
    }
    const justDeepEnough = nested(31)
    const attempts = [
      deepPost,
      post({ text: 'hi', extra: nested(33) }),
      post({ text: 'nul \u0000 byte' }),
      post({ text: 'lone \ud800 surrogate' }),
      post({ text: 'hi', ['key\u0000']: 1 }),
      post({ text: 'hi' }, { summary: 'nul \u0000 in a string argument' }),
      server.gql(`mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "post_to_social", params: { text: "hi" }, summary: "inline \\u0000" }) { approvalRequired } }`, {}, agent.token),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors).slice(0, 300)).toBe('BAD_USER_INPUT')
    }
    expect(await stored()).toBe(before)
    // 32 levels of JSON are fine, and so is any other Unicode
    expect((await post({ text: 'emoji 😀 ok', extra: justDeepEnough })).errors).toBeUndefined()
  })

  it('query cost weighs list sizes and JSON fields: a page of 100 with params and context is refused before it runs', async () => {
    const page = (first: number, fields: string) => server.gql(`{ approvalInbox(first: ${first}) { edges { node { id ${fields} } } } }`, {}, reviewer.token)
    const refused = await page(100, 'params context')
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(refused.errors?.[0]?.message).toMatch(/would cost \d+, more than the 12000 allowed/)
    expect(refused.data ?? null).toBeNull()
    expect((await page(100, 'params')).errors).toBeUndefined()
    expect((await page(20, 'params context')).errors).toBeUndefined()
  })

  it('approvalEvents(last: 1000) with params is refused as first: 1000 is: the cost counts last:, and the page served when no size is given, on every connection', async () => {
    const big = { text: 'x'.repeat(60 * 1024) }
    for (let i = 0; i < 3; i++) expect((await post(big)).errors).toBeUndefined()
    const refused = (what: string, res: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }) => {
      expect(res.errors?.[0]?.extensions?.code, `${what}: ${JSON.stringify(res.errors ?? res.data).slice(0, 200)}`).toBe('BAD_USER_INPUT')
      expect(res.errors?.[0]?.message).toMatch(/would cost \d+, more than the 12000 allowed/)
      // nothing served (a nullable root field is null)
      expect(JSON.stringify(res.data ?? null)).not.toContain('edges')
    }
    // each connection, with what its node selects: refused for its largest page asked by first:
    // or by last:; a small page by last: is served; with no size, it weighs its default page
    // (approvalEvents: 100, which was weighed as 20)
    const endpoint = await server.gql(`mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/x", events: [APPROVAL_DECIDED] }) { endpoint { id } } }`, {}, server.ownerToken)
    const endpointId = endpoint.data.createWebhookEndpoint.endpoint.id as string
    const connections: Record<string, { query: (page: string) => string; max: number; small: string; unsized: 'refused' | 'served' }> = {
      'Query.approvalEvents': { query: (page) => `{ approvalEvents${page} { edges { node { id details request { params } } } } }`, max: 1000, small: '(last: 50)', unsized: 'refused' },
      'Query.approvalInbox': { query: (page) => `{ approvalInbox${page} { edges { node { id params context } } } }`, max: 100, small: '(last: 20)', unsized: 'served' },
      'Query.approvalHistory': { query: (page) => `{ approvalHistory${page} { edges { node { id params context } } } }`, max: 100, small: '(last: 20)', unsized: 'served' },
      'WebhookEndpoint.deliveries': { query: (page) => `{ webhookEndpoint(id: "${endpointId}") { deliveries${page} { edges { node { id payload again: payload } } } } }`, max: 100, small: '(last: 20)', unsized: 'served' },
    }
    for (const [name, { query, max, small, unsized }] of Object.entries(connections)) {
      for (const page of [`(first: ${max})`, `(last: ${max})`, `(first: 1, last: ${max})`]) refused(`${name}${page}`, await server.gql(query(page), {}, server.ownerToken))
      const served = await server.gql(query(small), {}, server.ownerToken)
      expect([name, served.errors]).toEqual([name, undefined])
      const noSize = await server.gql(query(''), {}, server.ownerToken)
      if (unsized === 'refused') refused(name, noSize)
      else expect([name, noSize.errors]).toEqual([name, undefined])
    }
    // the four are every connection of the schema: a new one is weighed here too
    const { schema } = await import('../src/schema/index.js')
    const found = Object.values(schema.getTypeMap()).flatMap((type) =>
      isObjectType(type) || isInterfaceType(type)
        ? Object.values(type.getFields())
            .filter((f) => getNamedType(f.type).name.endsWith('Connection'))
            .map((f) => `${type.name}.${f.name}`)
        : [],
    )
    expect(found.sort()).toEqual(Object.keys(connections).sort())
  })
})
