// Starts real servers for the tests: a real HTTP listener on a free port, over PGlite (in memory
// or in a data folder) or, when TEST_DATABASE_URL is set, a fresh PostgreSQL database per server.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { createClient, type Client } from 'graphql-ws'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { buildApp, type App, type AppOptions } from '../src/app.js'
import type { Clock } from '../src/clock.js'
import { openDatabase, type Database } from '../src/db.js'
import { bootstrapOwner } from '../src/directory/directory.js'
import { createLogger } from '../src/logger.js'
import { createAppPubSub } from '../src/pubsub.js'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL

/** A database location that outlives one server, so that a test can restart on the same data. */
export type DatabaseLocation = { url: string; drop(): Promise<void> } | { dataDir: string | undefined; drop(): Promise<void> }

/** A fresh, empty database: a new PostgreSQL database under TEST_DATABASE_URL, else PGlite. */
export async function freshDatabase(dataDir?: string): Promise<DatabaseLocation> {
  if (!TEST_DATABASE_URL) return { dataDir, drop: async () => {} }
  const name = `approvals_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

export function openAt(location: DatabaseLocation, onQuery?: (sql: string) => void): Promise<Database> {
  return openDatabase('url' in location ? { url: location.url, onQuery } : { dataDir: location.dataDir, onQuery })
}

export interface GraphQLResponse<T = any> {
  data?: T | null
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; field?: string } }[]
}

export interface TestServer {
  app: App
  db: Database
  location: DatabaseLocation
  url: string
  wsUrl: string
  ownerToken: string
  /** POSTs an operation to /graphql, with `Authorization: Bearer <token>` when a token is given. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>
  /** A graphql-ws client over a real WebSocket, with the token in connectionParams. */
  ws(token?: string, options?: { onClose?: (event: { code: number; reason: string }) => void; lazy?: boolean }): Client
  /**
   * Resolves once `count` subscriptions of `field` started after this call are listening for
   * their events (through Redis: once Redis acknowledged the SUBSCRIBE). Call it before
   * starting them; tests wait on it instead of sleeping.
   */
  subscribed(field: 'approvalDecision' | 'approvalInbox' | 'approvedActions', count?: number): Promise<void>
  /** Resolves once the server runs exactly `count` WebSocket operations. */
  waitForSubscriptionCount(count: number): Promise<void>
  /** Resolves once exactly `count` WebSocket connections are open on the server. */
  waitForSocketCount(count: number): Promise<void>
  /** Stops the server and closes its database; the data stays (see `location.drop`). */
  stop(): Promise<void>
  /** stop() and drop the database. */
  destroy(): Promise<void>
}

export interface StartOptions {
  location?: DatabaseLocation
  clock?: Clock
  ownerToken?: string
  redis?: Redis
  onQuery?: (sql: string) => void
  /** Subscriptions fan out through the Redis at this URL (as with REDIS_URL) instead of in-process. */
  redisUrl?: string
  catchUpIntervalMs?: number
  maxSubscriptionsPerConnection?: number
  /** A built inbox to serve at /. */
  clientDir?: string
  /** As in production (no GraphiQL, masked errors, introspection off unless `introspection`). */
  production?: boolean
  introspection?: boolean
  allowedOrigins?: string[]
  maxConnectionsPerToken?: number
  maxSubscriptionsPerPrincipal?: number
  /** Counted in the Redis of `redisUrl` (or `rateLimitRedis`) when given, as main.ts does with REDIS_URL. */
  rateLimitPerMinute?: number
  rateLimitRedis?: Redis
  maxBodyBytes?: number
  /** The largest params and context of a request (APPROVALS_MAX_JSON_BYTES). */
  maxJsonBytes?: number
  /** Attempts before an approved action is FAILED (APPROVALS_MAX_EXECUTION_ATTEMPTS). */
  maxExecutionAttempts?: number
  /** The deadline scheduler's timer; off (0: passes only through `app.scheduler.runOnce()`) unless given. */
  schedulerIntervalMs?: number
  /** Told of each scheduler pass that moved something, before the pass ends (AppOptions.onDeadlinesPassed). */
  onDeadlinesPassed?: AppOptions['onDeadlinesPassed']
  /** The revoked-token sweep; off (0) unless given. */
  accessSweepIntervalMs?: number
  /** Email and Slack (off unless given); the outbox has no timer of its own unless `intervalMs` says so. */
  notifications?: AppOptions['notifications']
  /** The webhook dispatcher; runs only through `app.webhooks.runOnce()` (interval 0) unless given. */
  webhooks?: AppOptions['webhooks']
  /** APPROVALS_METRICS_TOKEN: /metrics on the main port for requests bearing it. */
  metricsToken?: string
  /** Traces of operations go here. */
  tracerProvider?: AppOptions['tracerProvider']
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const location = options.location ?? (await freshDatabase())
  const db = await openAt(location, options.onQuery)
  await db.migrate()
  const ownerToken = options.ownerToken ?? `owner-${randomBytes(16).toString('hex')}`
  await bootstrapOwner(db.prisma, { token: ownerToken, email: 'owner@example.com', name: 'Olivia Owner' })
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')
  // the same two-client set-up as main.ts
  const redis = options.redisUrl
    ? {
        publish: new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
        subscribe: new Redis(options.redisUrl, { maxRetriesPerRequest: null }),
      }
    : undefined
  redis?.publish.on('error', () => {})
  redis?.subscribe.on('error', () => {})
  if (redis) await Promise.all([redis.publish, redis.subscribe].map((c) => new Promise((r) => c.once('ready', r))))
  const subscriptions = new EventEmitter<{ subscribed: [field: string] }>()
  subscriptions.setMaxListeners(0)
  const app = buildApp({
    db,
    logger,
    onSubscribed: (field) => subscriptions.emit('subscribed', field),
    clock: options.clock,
    redis: options.redis ?? redis?.publish,
    pubsub: redis ? createAppPubSub({ ...redis, onPublishError: () => {} }) : undefined,
    shutdownTimeoutMs: 1000,
    schedulerIntervalMs: options.schedulerIntervalMs ?? 0,
    onDeadlinesPassed: options.onDeadlinesPassed,
    auditIntervalMs: 0,
    catchUpIntervalMs: options.catchUpIntervalMs,
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection,
    clientDir: options.clientDir ?? null,
    production: options.production,
    introspection: options.introspection,
    allowedOrigins: options.allowedOrigins,
    maxConnectionsPerToken: options.maxConnectionsPerToken,
    maxSubscriptionsPerPrincipal: options.maxSubscriptionsPerPrincipal,
    rateLimit:
      options.rateLimitPerMinute === undefined
        ? undefined
        : { perMinute: options.rateLimitPerMinute, redis: options.rateLimitRedis ?? redis?.publish },
    maxBodyBytes: options.maxBodyBytes,
    maxJsonBytes: options.maxJsonBytes,
    maxExecutionAttempts: options.maxExecutionAttempts,
    // off unless a test asks, like the scheduler: no timer of the server's queries behind a test's back
    accessSweepIntervalMs: options.accessSweepIntervalMs ?? 0,
    notifications: options.notifications,
    webhooks: { intervalMs: 0, ...options.webhooks },
    metricsToken: options.metricsToken,
    tracerProvider: options.tracerProvider,
  })
  const port = await app.listen(0, '127.0.0.1')
  const url = `http://127.0.0.1:${port}/graphql`
  const wsUrl = `ws://127.0.0.1:${port}/graphql`
  const clients: Client[] = []
  let stopped = false
  const server: TestServer = {
    app,
    db,
    location,
    url,
    wsUrl,
    ownerToken,
    async gql(query, variables, token) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      })
      return (await res.json()) as GraphQLResponse
    },
    subscribed(field, count = 1) {
      return new Promise((resolve) => {
        let seen = 0
        const listener = (started: string) => {
          if (started !== field || ++seen < count) return
          subscriptions.off('subscribed', listener)
          resolve()
        }
        subscriptions.on('subscribed', listener)
      })
    },
    waitForSubscriptionCount: (count) => app.connections.until((r) => r.stats().operations === count),
    waitForSocketCount: (count) => app.connections.until((r) => r.stats().connections === count),
    ws(token, wsOptions) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: wsOptions?.lazy ?? true,
        retryAttempts: 0,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        on: wsOptions?.onClose ? { closed: (e) => wsOptions.onClose!(e as { code: number; reason: string }) } : undefined,
      })
      clients.push(client)
      return client
    },
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all(clients.map((c) => c.dispose()))
      await app.stop()
      redis?.publish.disconnect()
      redis?.subscribe.disconnect()
    },
    async destroy() {
      await server.stop()
      await location.drop()
    },
  }
  return server
}

/** Runs one operation over a graphql-ws client and returns its single result. */
export function wsRequest<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  return new Promise((resolve, reject) => {
    let result: GraphQLResponse<T> | undefined
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => void (result = value as GraphQLResponse<T>),
        error: (err) => reject(err),
        complete: () => resolve(result!),
      },
    )
  })
}

/** Creates a user through the API as the owner and returns its id and a token for it. */
export async function createUserWithToken(
  server: TestServer,
  input: { email: string; name: string; roleKeys: string[]; managerId?: string },
): Promise<{ id: string; token: string }> {
  const created = await server.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`,
    { input },
    server.ownerToken,
  )
  if (created.errors) throw new Error(JSON.stringify(created.errors))
  const id = created.data.createUser.id as string
  const token = await server.gql(
    `mutation($id: ID!) { createApiToken(principalId: $id, name: "test") { token } }`,
    { id },
    server.ownerToken,
  )
  if (token.errors) throw new Error(JSON.stringify(token.errors))
  return { id, token: token.data.createApiToken.token as string }
}

/** A clock that moves only when told: tests pass deadlines without sleeping. */
export class ManualClock {
  constructor(private current = new Date('2026-01-05T09:00:00.000Z')) {}
  now = () => new Date(this.current)
  advance(seconds: number) {
    this.current = new Date(this.current.getTime() + seconds * 1000)
  }
}

export const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code)

/** Creates an agent (owned by `ownerId`) as the owner, with a token. */
export async function createAgentWithToken(server: TestServer, input: { name: string; ownerId?: string }): Promise<{ id: string; token: string }> {
  const created = await server.gql(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`, { input }, server.ownerToken)
  if (created.errors) throw new Error(JSON.stringify(created.errors))
  const id = created.data.createAgent.id as string
  const token = await server.gql(`mutation($id: ID!) { createApiToken(principalId: $id, name: "test") { token } }`, { id }, server.ownerToken)
  return { id, token: token.data.createApiToken.token as string }
}

export const RULE_FIELDS = `id name version enabled priority resourceType actionType module conditions allowSelfApproval expiresAfterSeconds escalateAfterSeconds
  primaryResolver { type delaySeconds roleKey user { id } role { key } agent { id } }
  fallbackResolver { type delaySeconds roleKey user { id } role { key } agent { id } }`

export const REQUEST_FIELDS = `id status resourceType actionType params module recordId summary context resolverType escalated expiresAt decidedAt decisionComment createdAt
  rule { id name description }
  requester { __typename id name }
  onBehalfOf { id name }
  reviewers { __typename id name }
  decidedBy { id name }
  record { id data owner { id } }
  events { type comment actor { id name } at }`

/** Creates a rule as the owner; throws on errors. */
export async function createRule(server: TestServer, input: Record<string, unknown>): Promise<any> {
  const res = await server.gql(`mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { ${RULE_FIELDS} } }`, { input }, server.ownerToken)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.createApprovalRule
}

/**
 * What a requester (the agent that asked, or the person it acts for) sees of its request: not how
 * it is reviewed (resolverType, escalated, reviewers, and, in the events, only its status and decision).
 */
export const REQUESTER_FIELDS = REQUEST_FIELDS.replace(' resolverType escalated ', ' ').replace(/\n\s*reviewers \{[^}]*\}/, '')

/**
 * Calls requestApproval with `token`; returns the whole response, in which the request is as an
 * approval manager reads it right after (REQUEST_FIELDS): a requester itself is not shown how its
 * request is reviewed (REQUESTER_FIELDS), and tests check whom it went to.
 */
export async function requestApproval(server: TestServer, token: string, input: Record<string, unknown>) {
  const res = await server.gql(
    `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { ${REQUESTER_FIELDS} } } }`,
    { input },
    token,
  )
  const id = res.data?.requestApproval?.request?.id as string | undefined
  if (res.errors || !id) return res
  const read = await getRequest(server, server.ownerToken, id)
  if (read.errors) throw new Error(JSON.stringify(read.errors))
  return { ...res, data: { requestApproval: { ...res.data.requestApproval, request: read.data.approvalRequest } } }
}

export function decide(server: TestServer, token: string, id: string, verb: 'approveRequest' | 'rejectRequest', comment?: string) {
  return server.gql(`mutation($id: ID!, $comment: String) { ${verb}(id: $id, comment: $comment) { ${REQUEST_FIELDS} } }`, { id, comment }, token)
}

export async function getRequest(server: TestServer, token: string, id: string) {
  return server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${REQUEST_FIELDS} } }`, { id }, token)
}

/** A running subscription's received payloads, with waits for the next ones and for completion. */
export interface Collected<T = any> {
  events: GraphQLResponse<T>[]
  /** Resolves once `count` events arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<GraphQLResponse<T>[]>
  /** Resolves when the server completes the subscription; rejects on an error. */
  completed: Promise<void>
  dispose(): void
}

export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Collected<T> {
  const events: GraphQLResponse<T>[] = []
  const waiters: (() => void)[] = []
  let dispose!: () => void
  const completed = new Promise<void>((resolve, reject) => {
    dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          events.push(value as GraphQLResponse<T>)
          waiters.splice(0).forEach((w) => w())
        },
        error: (err) => reject(err),
        complete: () => resolve(),
      },
    )
  })
  completed.catch(() => {})
  return {
    events,
    completed,
    dispose: () => dispose(),
    waitFor(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${count} events within ${timeoutMs} ms, got ${JSON.stringify(events)}`)), timeoutMs)
        const check = () => {
          if (events.length >= count) {
            clearTimeout(timer)
            resolve(events)
          } else waiters.push(check)
        }
        check()
      })
    },
  }
}

/** Starts the service as an operator does (`server/src/main.ts` in a child process), configured by `env`; resolves once it listens. */
export function startMain(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + lines.join('\n'))), 45_000)
    createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      const entry = JSON.parse(line) as { msg: string; port?: number }
      if (entry.msg === 'approvals listening') {
        clearTimeout(timer)
        resolve({ child, port: entry.port!, lines })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${lines.join('\n')}`))
    })
  })
}


/** A loopback port that nothing listens on (just now). */
export async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return port
}

/**
 * A redis-server of the test's own on a free loopback port (Debian's redis-server package), so
 * that a test can stop it and start it again: Redis going away and coming back.
 */
export async function ownRedis(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void>; running(): boolean }> {
  const port = await freePort()
  let redis: ChildProcess | undefined
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'pipe' })
      await new Promise<void>((resolve, reject) => {
        redis!.once('error', reject)
        redis!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve())
      })
    },
    async stop() {
      const exited = new Promise((r) => redis!.once('exit', r))
      redis!.kill('SIGKILL')
      await exited
    },
    running: () => !!redis && redis.exitCode === null && redis.signalCode === null,
  }
}
