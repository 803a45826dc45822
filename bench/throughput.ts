/**
 * Throughput benchmark: requests per second and latency of the API under load, next to a bare
 * graphql-yoga server measured in the same run.
 *
 *   npm run bench:throughput [-- --duration 10 --connections 50 --warmup 3 --sql --analyze]
 *   DATABASE_URL=postgres://user@host:port/db npm run bench:throughput   (adds PostgreSQL)
 *
 * One run starts, in this process:
 * - a bare graphql-yoga server (one trivial mutation, served by node:http like ours), the ceiling;
 * - our server (buildApp) on embedded PGlite in a temporary data folder, and, when DATABASE_URL is
 *   set, on PostgreSQL in a throwaway database created under it (dropped at the end);
 * and drives each case with autocannon (as a library, in a worker thread, so that the load
 * generator does not share the server's event loop) at `--connections` keep-alive connections:
 * one run of `--warmup` + `--duration` seconds, of which only the last `--duration` are measured
 * (the same connections, already busy), then a wait until the server has answered everything it
 * received, so that no case runs into the next. The cases:
 * - bare: `mutation { ping }` on the bare server;
 * - viewer: `viewer { permissions }` as an agent: the token check and nothing else;
 * - requestApproval matching a rule whose primary resolver is ROLE `reviewer` (5 users hold it),
 *   and matching no rule (a module no rule covers); each with a fresh idempotencyKey, as the SDK
 *   sends one (whose lookup is the one statement of an unmatched request: a retry must find the
 *   request its first call made, whatever the rules say now), and the unmatched one without a key;
 * - approveRequest on pending requests created for it beforehand (one request each);
 * - approvalInbox(first: 50) with requester, rule and reviewers, for a reviewer with thousands pending;
 * - approvalHistory(first: 50), the same fields, for the owner (approval:view).
 * For each it prints req/s (responses completed in the measured seconds), p50 and p99 latency
 * (of the requests sent in them, from each response's time; autocannon's own histogram keeps
 * whole milliseconds and counts the warm-up), req/s as a share of
 * bare, the SQL statements per operation, and non-2xx responses and GraphQL errors (every
 * response body is checked for "errors"; a case with any is flagged loudly).
 *
 * SQL statements per operation are counted outside the load: before the measured server starts,
 * a server on the same database, opened with `openDatabase({ onQuery })`, runs each operation 20
 * times in a row (after 5 calls that warm it up and fill the server's caches), and the
 * statements Prisma reports are divided by 20 (a transaction's COMMIT is among them, as
 * `-- Implicit "COMMIT" query`; its BEGIN is not). `--sql` prints the statements of one call of each.
 * Those calls' mean latency is printed too ("one at a time"): the cost of one call without load.
 * The measured server is opened without onQuery (Prisma's query events cost a little).
 *
 * The server runs as in production (NODE_ENV=production, `production: true`: introspection off,
 * masked errors), with the abuse rate limit off (`rateLimit: { perMinute: 0 }`), no deadline
 * scheduler, no revocation sweep, in-process pub/sub (no Redis), and Prisma's default pool (10
 * connections on PostgreSQL; PGlite has one). Before each case, `db.analyze()` refreshes PGlite's
 * planner statistics, as a running server does every ten minutes (PGlite has no autovacuum; on
 * PostgreSQL it is a no-op); `--analyze` runs ANALYZE on PostgreSQL too, whose autovacuum may
 * not have caught up with the thousands of requests the run makes. A benchmark, not a test: it prints numbers and asserts nothing, but says loudly
 * when a case got errors.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import os from 'node:os'
import { join } from 'node:path'
import { performance as nodePerformance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import type autocannon from 'autocannon'
import pg from 'pg'
import type { App } from '../server/src/app.js'
import type { Database } from '../server/src/db.js'

// As `npm start` runs in production. Set before graphql and the server load: some libraries
// (graphql-js among them) read NODE_ENV once, when they are imported.
process.env.NODE_ENV = 'production'
const { createSchema, createYoga } = await import('graphql-yoga')
const { encodeGlobalID } = await import('@pothos/plugin-relay')
const { buildApp } = await import('../server/src/app.js')
const { generateToken, hashToken } = await import('../server/src/auth/tokens.js')
const { openDatabase } = await import('../server/src/db.js')
const { createLogger } = await import('../server/src/logger.js')

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    /** How many sequential calls of each operation the SQL statements are counted over. */
    'count-calls': { type: 'string', default: '20' },
    /** Print the SQL statements of one call of each operation. */
    sql: { type: 'boolean', default: false },
    /** Run ANALYZE before the measured cases (PGlite never does; PostgreSQL's autovacuum does, in its time). */
    analyze: { type: 'boolean', default: false },
  },
})
const DURATION = Number(args.duration)
const CONNECTIONS = Number(args.connections)
const WARMUP = Number(args.warmup)
const COUNT_CALLS = Number(args['count-calls'])
const databaseUrl = process.env.DATABASE_URL

// ---------------------------------------------------------------------------------------------
// The load generator: autocannon in a worker thread. Plain JavaScript (the worker needs no
// TypeScript loader); it takes the serialisable options built below, adds the functions, and
// answers with the figures.

/**
 * autocannon's options that cross to the worker, plus the ids that `__ID__` in the body takes in
 * turn, and the warm-up: the first `warmup` seconds of the run are not measured.
 */
type LoadSpec = Pick<autocannon.Options, 'url' | 'method' | 'connections' | 'duration' | 'amount' | 'headers' | 'idReplacement' | 'timeout'> & {
  body: string
  ids?: string[]
  warmup?: number
}

/** The figures of the measured part of a run (after the warm-up). */
interface LoadResult {
  /** Responses completed in it, a second. */
  rps: number
  /** Responses completed in it. */
  total: number
  /** Its length, seconds. */
  duration: number
  /** Latency of the requests sent in it, ms. */
  p50: number
  p99: number
  non2xx: number
  /** Socket errors and timeouts. */
  errors: number
  /** Responses whose body holds "errors". */
  gqlErrors: number
  samples: string[]
  /** The whole run, warm-up included: responses, and seconds. */
  all: number
  elapsed: number
  /** When the run had used all its `ids` (seconds into it); null if it had not. */
  exhaustedAt: number | null
}

// One autocannon run per case, its first seconds the warm-up: the measured part runs on
// connections already open and busy (a run's first requests wait while its 50 connections open).
// Latencies come from each response's time (autocannon's histogram keeps whole milliseconds).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const autocannon = require(workerData.autocannon)
const percentile = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN
parentPort.on('message', (spec) => {
  const { ids, warmup = 0, ...options } = spec
  const warmupMs = warmup * 1000
  const started = performance.now()
  const since = () => performance.now() - started
  const times = []
  const samples = []
  let next = 0, all = 0, total = 0, non2xx = 0, errors = 0, gqlErrors = 0, measured = false, last = 0, exhaustedAt = null
  const instance = autocannon({
    ...options,
    // one id per request, never twice
    requests: ids ? [{
      setupRequest: (req) => {
        if (next === ids.length && exhaustedAt === null) exhaustedAt = since() / 1000
        return { ...req, body: spec.body.replace('__ID__', String(ids[next++])) }
      },
    }] : undefined,
    // called right after the 'response' event of the same response
    verifyBody: (body) => {
      if (!String(body).includes('"errors"')) return true
      if (measured) {
        gqlErrors++
        if (samples.length < 3) samples.push(String(body).slice(0, 400))
      }
      return false
    },
  }, (err) => {
    if (err) return parentPort.postMessage({ error: String((err && err.stack) || err) })
    // a run of an amount ends with its last response; one of a duration, when autocannon stops it
    const end = options.amount ? last : since()
    const sorted = Float64Array.from(times).sort()
    parentPort.postMessage({
      rps: total / ((end - warmupMs) / 1000), total, duration: (end - warmupMs) / 1000,
      p50: percentile(sorted, 50), p99: percentile(sorted, 99),
      non2xx, errors, gqlErrors, samples, all, elapsed: end / 1000, exhaustedAt,
    })
  })
  instance.on('response', (_client, status, _bytes, ms) => {
    const now = since()
    all++
    last = now
    measured = now >= warmupMs
    if (!measured) return
    total++
    if (status < 200 || status > 299) non2xx++
    if (now - ms >= warmupMs) times.push(ms)
  })
  instance.on('reqError', () => {
    if (since() >= warmupMs) errors++
  })
})
`

const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { autocannon: createRequire(import.meta.url).resolve('autocannon') } })
worker.unref()

function load(spec: LoadSpec): Promise<LoadResult> {
  // autocannon refuses more connections than requests
  const connections = spec.amount ? Math.min(spec.amount, spec.connections ?? CONNECTIONS) : spec.connections
  return new Promise((resolve, reject) => {
    worker.once('message', (m: LoadResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)))
    worker.postMessage({ ...spec, connections })
  })
}

// ---------------------------------------------------------------------------------------------
// Servers

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/**
 * Waits until the server is done with a run: when autocannon stops it drops its connections, but
 * the server still works through the requests it had (and what they set off), and that must not
 * run into the next case, nor into the database's close. Done means: every request received is
 * answered or its client gone, this thread's event loop (the server's, and PGlite's) was under
 * 10 % busy for half a second, and `databaseBusy` (PostgreSQL's other sessions) says no.
 * Resolves with the milliseconds it waited.
 */
function trackRequests(server: Server, databaseBusy: () => Promise<boolean> = async () => false): () => Promise<number> {
  const open = new Set<ServerResponse>()
  server.on('request', (_req, res: ServerResponse) => void open.add(res))
  return async () => {
    const started = performance.now()
    const late = () => performance.now() - started > 60_000
    for (;;) {
      for (const res of open) if (res.writableEnded || res.closed) open.delete(res)
      if (open.size === 0) break
      if (late()) {
        console.log(`  !!!!! ${open.size} requests still unanswered after 60 s`)
        break
      }
      await new Promise((r) => setTimeout(r, 20))
    }
    for (;;) {
      const before = nodePerformance.eventLoopUtilization()
      await new Promise((r) => setTimeout(r, 500))
      if (nodePerformance.eventLoopUtilization(before).utilization < 0.1 && !(await databaseBusy())) break
      if (late()) {
        console.log('  !!!!! the server is still busy 60 s after the run')
        break
      }
    }
    return performance.now() - started
  }
}

/** The ceiling: graphql-yoga with one trivial mutation, on node:http as ours is. */
async function startBare(): Promise<{ url: string; idle(): Promise<number>; close(): Promise<void> }> {
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: 'type Query { ok: Boolean! } type Mutation { ping: Boolean! }',
      resolvers: { Query: { ok: () => true }, Mutation: { ping: () => true } },
    }),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
  })
  const server = createServer(yoga)
  const idle = trackRequests(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    idle,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  }
}

type Location = { url: string } | { dataDir: string }

interface Instance {
  app: App
  db: Database
  url: string
  /** Resolves once the server is done with what it received (see trackRequests), with the ms it waited. */
  idle(): Promise<number>
}

async function startInstance(location: Location, onQuery?: (sql: string) => void): Promise<Instance> {
  const db = await openDatabase({ ...location, onQuery })
  await db.migrate()
  const app = buildApp({
    db,
    logger: createLogger('warn'),
    production: true,
    clientDir: null,
    schedulerIntervalMs: 0,
    accessSweepIntervalMs: 0,
    // the benchmark's own load would be refused by the abuse limit
    rateLimit: { perMinute: 0 },
  })
  // other sessions of the database still running a statement (PGlite's run in this thread)
  const databaseBusy = async () =>
    db.kind === 'postgres' &&
    (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`)[0]!.n > 0
  const idle = trackRequests(app.server, databaseBusy)
  const port = await app.listen(0, '127.0.0.1')
  return { app, db, url: `http://127.0.0.1:${port}/graphql`, idle }
}

async function withPostgres<T>(run: (url: string) => Promise<T>): Promise<T> {
  const name = `approvals_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  const url = new URL(databaseUrl!)
  url.pathname = `/${name}`
  try {
    return await run(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  }
}

async function gql(url: string, token: string, query: string, variables: object = {}): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data: any; errors?: unknown }
  if (res.status !== 200 || body.errors) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body)}`)
  return body.data
}

// ---------------------------------------------------------------------------------------------
// The data: an owner, a role `reviewer` held by 5 users, an approver, an agent, three rules

interface Fixture {
  ownerToken: string
  agentToken: string
  /** Reviewer 1 of the role: its inbox is measured. */
  reviewerToken: string
  /** The NAMED_USER of the rule of module "approve": approves the pool. */
  approverToken: string
}

async function makeUser(db: Database, name: string, roleKey: string): Promise<{ id: string; token: string }> {
  const token = generateToken()
  const user = await db.prisma.user.create({
    data: {
      email: `${name.toLowerCase().replace(/\W+/g, '-')}@bench.test`,
      name,
      roles: { connect: { key: roleKey } },
      apiTokens: { create: { name: 'bench', tokenHash: hashToken(token) } },
    },
    select: { id: true },
  })
  return { id: user.id, token }
}

/** Users, the role and the agent straight into the database; the rules through the API, as an owner makes them. */
async function seed(instance: Instance): Promise<Fixture> {
  const { db, url } = instance
  const owner = await makeUser(db, 'Owner', 'owner')
  await db.prisma.role.create({ data: { key: 'reviewer', name: 'Reviewer', permissions: ['approval:resolve'] } })
  const reviewers = []
  for (let i = 1; i <= 5; i++) reviewers.push(await makeUser(db, `Reviewer ${i}`, 'reviewer'))
  const approver = await makeUser(db, 'Approver', 'member')
  const agent = await db.prisma.agent.create({ data: { name: 'Bench agent', ownerId: owner.id } })
  const agentToken = generateToken()
  await db.prisma.apiToken.create({ data: { name: 'bench', tokenHash: hashToken(agentToken), agentId: agent.id } })
  const createRule = `mutation($input: ApprovalRuleInput!) { createApprovalRule(input: $input) { id } }`
  const email = { resourceType: 'AGENT_ACTION', actionType: 'send_email' }
  await gql(url, owner.token, createRule, { input: { ...email, name: 'Email: reviewers', module: 'bench', primaryResolver: { type: 'ROLE', roleKey: 'reviewer' } } })
  await gql(url, owner.token, createRule, { input: { ...email, name: 'Email: approver', module: 'approve', primaryResolver: { type: 'NAMED_USER', userId: encodeGlobalID('User', approver.id) } } })
  // a rule for another action type, so that the unmatched request's rule query is not trivially empty
  await gql(url, owner.token, createRule, { input: { resourceType: 'AGENT_ACTION', actionType: 'browse_website', name: 'Browsing', primaryResolver: { type: 'ROLE', roleKey: 'reviewer' } } })
  return { ownerToken: owner.token, agentToken, reviewerToken: reviewers[0]!.token, approverToken: approver.token }
}

// ---------------------------------------------------------------------------------------------
// The operations

const REQUEST = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { approvalRequired request { id status } } }`
const requestInput = (module: string, key: string) => ({
  input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, idempotencyKey: key, params: { to: 'customer@example.com', subject: 'Your order', body: 'It ships today.' } },
})
const LIST_NODE = `id status requester { __typename ... on Agent { name } } rule { name } reviewers { name }`

interface Operation {
  key: string
  label: string
  token(f: Fixture): string
  query: string
  /** `[<id>]` becomes a unique id per request; `__ID__` the next id of `ids`. */
  variables: object
  /** Throws when a response's data is not what the case means to measure. */
  check(data: any): void
  /** approveRequest: takes one pending request per call. */
  usesPool?: boolean
}

const expect = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`unexpected response: ${what}`)
}
const listOf50 = (conn: any, pending: boolean) => {
  expect(conn.edges.length === 50, `${conn.edges.length} edges, not 50`)
  if (pending) expect(conn.edges.every((e: any) => e.node.reviewers.length === 5 && e.node.rule && e.node.requester.name), 'inbox nodes without 5 reviewers, rule or requester')
}

const OPERATIONS: Operation[] = [
  {
    key: 'viewer',
    label: 'viewer (agent)',
    token: (f) => f.agentToken,
    query: `query { viewer { permissions } }`,
    variables: {},
    check: (d) => expect(Array.isArray(d.viewer.permissions) && d.viewer.permissions.includes('approval:resolve'), "the agent's permissions are missing"),
  },
  {
    key: 'request-match',
    label: 'requestApproval, ROLE rule (5 reviewers)',
    token: (f) => f.agentToken,
    query: REQUEST,
    variables: requestInput('bench', '[<id>]'),
    check: (d) => expect(d.requestApproval.approvalRequired && d.requestApproval.request.status === 'PENDING', 'no pending request'),
  },
  {
    key: 'request-nomatch',
    label: 'requestApproval, no rule matches',
    token: (f) => f.agentToken,
    query: REQUEST,
    variables: requestInput('unruled', '[<id>]'),
    check: (d) => expect(d.requestApproval.approvalRequired === false, 'a rule matched'),
  },
  {
    // without a key nothing could have been asked before: no lookup, no SQL at all
    key: 'request-nomatch-nokey',
    label: 'the same, without an idempotency key',
    token: (f) => f.agentToken,
    query: REQUEST,
    variables: (({ idempotencyKey: _key, ...input }) => ({ input }))(requestInput('unruled', '').input),
    check: (d) => expect(d.requestApproval.approvalRequired === false, 'a rule matched'),
  },
  {
    key: 'approve',
    label: 'approveRequest',
    token: (f) => f.approverToken,
    query: `mutation($id: ID!) { approveRequest(id: $id) { id status } }`,
    variables: { id: '__ID__' },
    check: (d) => expect(d.approveRequest.status === 'APPROVED', 'not approved'),
    usesPool: true,
  },
  {
    key: 'inbox',
    label: 'approvalInbox(first: 50)',
    token: (f) => f.reviewerToken,
    query: `query { approvalInbox(first: 50) { edges { node { ${LIST_NODE} } } } }`,
    variables: {},
    check: (d) => listOf50(d.approvalInbox, true),
  },
  {
    key: 'history',
    label: 'approvalHistory(first: 50)',
    token: (f) => f.ownerToken,
    query: `query { approvalHistory(first: 50) { edges { node { ${LIST_NODE} } } } }`,
    variables: {},
    check: (d) => listOf50(d.approvalHistory, false),
  },
]

/** Variables with their placeholders filled, for a single call: a fresh key, a pool id. */
const fill = (variables: object, poolId?: string) =>
  JSON.parse(JSON.stringify(variables).replace('[<id>]', randomBytes(8).toString('hex')).replace('__ID__', poolId ?? ''))

/** Pending requests for the approver (module "approve"), as global IDs, oldest first. */
async function pendingPool(db: Database): Promise<string[]> {
  const rows = await db.prisma.approvalRequest.findMany({ where: { status: 'PENDING', module: 'approve' }, select: { id: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  return rows.map((r) => encodeGlobalID('ApprovalRequest', r.id))
}

// ---------------------------------------------------------------------------------------------
// Counting SQL statements (sequential calls, no load)

interface Counted {
  perCall: number
  /** The statements of the last counted call. */
  oneCall: string[]
  /** Mean latency of the counted calls, one at a time (with Prisma's query events on). */
  ms: number
}

async function countStatements(location: Location): Promise<{ fixture: Fixture; counts: Map<string, Counted> }> {
  let log: string[] | undefined
  const instance = await startInstance(location, (sql) => log?.push(sql))
  try {
    const fixture = await seed(instance)
    // enough pending for the inbox (≥ 50) and for the approveRequest calls
    for (let i = 0; i < 60; i++) await gql(instance.url, fixture.agentToken, REQUEST, fill(requestInput('bench', '[<id>]')))
    for (let i = 0; i < COUNT_CALLS + 5; i++) await gql(instance.url, fixture.agentToken, REQUEST, fill(requestInput('approve', '[<id>]')))
    const pool = await pendingPool(instance.db)
    const counts = new Map<string, Counted>()
    for (const op of OPERATIONS) {
      const call = async () => {
        const data = await gql(instance.url, op.token(fixture), op.query, fill(op.variables, op.usesPool ? pool.shift() : undefined))
        op.check(data)
      }
      // warms up (the first calls of an operation compile its code paths), and fills the caches
      for (let i = 0; i < 5; i++) await call()
      log = []
      let oneCall: string[] = []
      const started = performance.now()
      for (let i = 0; i < COUNT_CALLS; i++) {
        const before = log.length
        await call()
        oneCall = log.slice(before)
      }
      const ms = (performance.now() - started) / COUNT_CALLS
      // what a call does after answering (notifying subscribers) is counted in too
      await new Promise((r) => setTimeout(r, 200))
      counts.set(op.key, { perCall: log.length / COUNT_CALLS, oneCall, ms })
      log = undefined
    }
    return { fixture, counts }
  } finally {
    await instance.app.stop() // closes the database too
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Row {
  label: string
  result: LoadResult
  statements?: number
  /** Mean latency one call at a time, without load. */
  sequentialMs?: number
  note?: string
}

const spec = (url: string, token: string | undefined, query: string, variables: object, extra: Partial<LoadSpec> = {}): LoadSpec => {
  const body = JSON.stringify({ query, variables })
  return {
    url,
    method: 'POST',
    connections: CONNECTIONS,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
    idReplacement: body.includes('[<id>]'),
    // seconds; a slower response counts as an error (autocannon's default, 10 s, cut PGlite's
    // slowest requestApproval responses off from the latencies)
    timeout: 30,
    ...extra,
  }
}

async function measureBare(): Promise<Row> {
  const bare = await startBare()
  try {
    const s = spec(bare.url, undefined, 'mutation { ping }', {})
    const result = await load({ ...s, warmup: WARMUP, duration: WARMUP + DURATION })
    await bare.idle()
    return { label: 'bare graphql-yoga (trivial mutation)', result }
  } finally {
    await bare.close()
  }
}

async function measureOurs(location: Location, counts: Map<string, Counted>, fixture: Fixture): Promise<Row[]> {
  const instance = await startInstance(location)
  const rows: Row[] = []
  try {
    for (const op of OPERATIONS) {
      // the reads come after thousands of requests were made: planned with statistics that know them
      await (args.analyze ? instance.db.prisma.$executeRawUnsafe('ANALYZE') : instance.db.analyze())
      const token = op.token(fixture)
      const s = spec(instance.url, token, op.query, op.variables)
      // each load is followed by a wait until the server has answered all it received
      let busyMs = 0
      const run = async (load_: LoadSpec) => {
        const result = await load(load_)
        busyMs = await instance.idle()
        return result
      }
      let row: Row
      if (op.usesPool) {
        // One pending request per approveRequest, made beforehand under load as the agent makes
        // them (not measured), for twice the run's time. A run that uses them all up (its last
        // requests name no request) is thrown away, and run again with a pool sized from its rate.
        const prefill = async (limit: { duration: number } | { amount: number }) => {
          const made = await run({ ...spec(instance.url, fixture.agentToken, REQUEST, requestInput('approve', '[<id>]')), ...limit })
          if (made.total === 0 || made.non2xx + made.errors + made.gqlErrors > 0) {
            throw new Error(`making pending requests for approveRequest failed: ${made.samples[0] ?? `${made.non2xx} non-2xx, ${made.errors} errors`}`)
          }
        }
        await prefill({ duration: 2 * (WARMUP + DURATION) })
        let pool = await pendingPool(instance.db)
        op.check(await gql(instance.url, token, op.query, fill(op.variables, pool.shift())))
        let result = await run({ ...s, warmup: WARMUP, duration: WARMUP + DURATION, ids: pool })
        for (let attempt = 0; result.exhaustedAt !== null && attempt < 3; attempt++) {
          await prefill({ amount: Math.ceil((pool.length / result.exhaustedAt) * (WARMUP + DURATION) * 1.3) })
          pool = await pendingPool(instance.db)
          result = await run({ ...s, warmup: WARMUP, duration: WARMUP + DURATION, ids: pool })
        }
        row = { label: op.label, result, note: `${fmt(pool.length)} pending before the run` }
      } else {
        op.check(await gql(instance.url, token, op.query, fill(op.variables)))
        row = { label: op.label, result: await run({ ...s, warmup: WARMUP, duration: WARMUP + DURATION }) }
      }
      // the server went on working long after the run: say so (it ran through the measurement too)
      if (busyMs > 2000) row.note = `${row.note ? `${row.note}; ` : ''}busy ${fmt(busyMs / 1000, 1)} s after the run`
      row.statements = counts.get(op.key)!.perCall
      row.sequentialMs = counts.get(op.key)!.ms
      rows.push(row)
      report(row)
    }
  } finally {
    await instance.app.stop()
  }
  return rows
}

let bareRow: Row
const loudly = (r: LoadResult) => r.total === 0 || r.non2xx + r.errors + r.gqlErrors > 0

function report(row: Row) {
  const r = row.result
  const share = (r.rps / bareRow.result.rps) * 100
  console.log(
    `  ${row.label.padEnd(42)} ${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 2).padStart(7)} ms  p99 ${fmt(r.p99, 2).padStart(7)} ms  ${row === bareRow ? '' : `${fmt(share, 1).padStart(5)} % of bare  `}` +
      `${row.statements === undefined ? '' : `${fmt(row.statements, 1)} SQL/op  `}(${fmt(r.total)} requests in ${fmt(r.duration, 1)} s` +
      `${row.sequentialMs === undefined ? '' : `; one at a time ${fmt(row.sequentialMs, 1)} ms`}${row.note ? `; ${row.note}` : ''})`,
  )
  if (loudly(r)) {
    if (r.total === 0) console.log(`  !!!!! ${row.label}: no response within the run`)
    console.log(`  !!!!! ${row.label}: ${r.non2xx} non-2xx, ${r.errors} socket errors or timeouts (> 30 s), ${r.gqlErrors} responses with GraphQL errors${r.samples.length ? '; e.g.:' : ''}`)
    for (const s of r.samples) console.log(`  !!!!!   ${s}`)
  }
}

// ---------------------------------------------------------------------------------------------

async function databaseVersion(location: Location): Promise<string> {
  const db = await openDatabase(location)
  try {
    const [row] = await db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`
    return row!.v
  } finally {
    await db.close()
  }
}

async function runDatabase(name: string, location: Location): Promise<{ name: string; rows: Row[]; counts: Map<string, Counted> }> {
  console.log(`\n${name}:`)
  const { fixture, counts } = await countStatements(location)
  const rows = await measureOurs(location, counts, fixture)
  if (args.sql) {
    for (const op of OPERATIONS) {
      const c = counts.get(op.key)!
      console.log(`\n  SQL of one ${op.label} (${c.oneCall.length} statements; ${fmt(c.perCall, 2)} per call over ${COUNT_CALLS}):`)
      for (const sql of c.oneCall) console.log(`    ${sql.replace(/\s+/g, ' ')}`)
    }
  }
  return { name, rows, counts }
}

const cpus = os.cpus()
// the package exports no ./package.json: read it next to its entry point
const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
const pgliteVersion = (JSON.parse(await readFile(join(pgliteEntry.slice(0, pgliteEntry.lastIndexOf('/dist/')), 'package.json'), 'utf8')) as { version: string }).version
const tmp = await mkdtemp(join(os.tmpdir(), 'approvals-bench-'))
const pgliteLocation = { dataDir: join(tmp, 'data') }

console.log(`approvals throughput benchmark: ${CONNECTIONS} connections, ${DURATION} s per case after ${WARMUP} s of warm-up`)
console.log(`machine: ${cpus.length} × ${cpus[0]?.model.trim()}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`)
console.log(`node ${process.version}; PGlite ${pgliteVersion} (PostgreSQL ${await databaseVersion(pgliteLocation)}, in-process)${databaseUrl ? '' : '; PostgreSQL: skipped (DATABASE_URL is not set)'}`)
if (databaseUrl) {
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  const { rows } = await admin.query<{ v: string; max: string }>(`SELECT current_setting('server_version') AS v, current_setting('max_connections') AS max`)
  await admin.end()
  console.log(`PostgreSQL ${rows[0]!.v} at ${new URL(databaseUrl).host} (max_connections ${rows[0]!.max}; the server's pool: Prisma's default, 10)`)
}
console.log(`load: autocannon in a worker thread of the same process; one server at a time; no Redis${args.analyze ? '; ANALYZE before each case' : ''}`)
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ')
console.log(`load average at the start (1, 5, 15 min): ${loadAverage()}`)

console.log('\nbare:')
bareRow = await measureBare()
report(bareRow)

const runs = [await runDatabase('PGlite (temporary data folder)', pgliteLocation).finally(() => rm(tmp, { recursive: true, force: true }))]
if (databaseUrl) runs.push(await withPostgres((url) => runDatabase('PostgreSQL (throwaway database)', { url })))

console.log(`\nload average at the end (1, 5, 15 min): ${loadAverage()}`)

// The table for the README
console.log(`\n\`npm run bench:throughput\`${databaseUrl ? ' with DATABASE_URL' : ''}, ${CONNECTIONS} connections, ${DURATION} s per case after ${WARMUP} s of warm-up; ${cpus.length} × ${cpus[0]?.model.trim()}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, node ${process.version}:`)
const cell = (r: LoadResult) => `${fmt(r.rps)} | ${fmt(r.p50, 1)} / ${fmt(r.p99, 1)} | ${fmt((r.rps / bareRow.result.rps) * 100, 1)} %${loudly(r) ? ' ⚠ errors' : ''}`
console.log(`\n| Case | ${runs.map((r) => `${r.name.split(' ')[0]} req/s | p50 / p99 ms | of bare`).join(' | ')} | SQL statements per operation |`)
console.log(`|---|${runs.map(() => '---:|---:|---:').join('|')}|---:|`)
console.log(`| bare graphql-yoga | ${runs.map(() => `${fmt(bareRow.result.rps)} | ${fmt(bareRow.result.p50, 1)} / ${fmt(bareRow.result.p99, 1)} | 100 %`).join(' | ')} | – |`)
OPERATIONS.forEach((op, i) => {
  const statements = [...new Set(runs.map((r) => fmt(r.counts.get(op.key)!.perCall, 1)))].join(' / ')
  console.log(`| ${op.label.replace(/\|/g, '\\|')} | ${runs.map((r) => cell(r.rows[i]!.result)).join(' | ')} | ${statements} |`)
})
const failed = runs.flatMap((r) => r.rows).filter((row) => loudly(row.result))
if (failed.length) console.log(`\n!!!!! ${failed.length} case(s) had errors: ${failed.map((r) => r.label).join('; ')}`)
process.exit(0)
