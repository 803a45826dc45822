// Realtime benchmark: how fast decisions reach waiting agents and new requests reach inboxes,
// next to the raw Redis PUBLISH-to-message round trip measured in the same run.
//
//   DATABASE_URL=postgres://... REDIS_URL=redis://... npm run bench [-- --decisions 1000]
//
// It creates a throwaway database under DATABASE_URL (dropped at the end), runs two server
// instances in this process (each with its own connection pool and Redis clients, talking to
// each other only through PostgreSQL and Redis), and drives them through real HTTP and WebSocket
// clients. A benchmark, not a test: it prints numbers and asserts nothing. Each case starts once
// every subscription is listening (the instances' onSubscribed), not after a guessed wait. The
// heap per idle inbox subscriber counts both ends (the graphql-ws clients are in this process
// too), so it bounds the server's share from above; `npm run bench` runs node with --expose-gc
// so that it is measured after a collection.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { createClient, type Client } from 'graphql-ws'
import { Redis } from 'ioredis'
import pg from 'pg'
import WebSocket from 'ws'
import { createApprovals } from '../sdk/src/index.js'
import { buildApp, type App } from '../server/src/app.js'
import { hashToken, generateToken } from '../server/src/auth/tokens.js'
import { openDatabase, type Database } from '../server/src/db.js'
import { createLogger } from '../server/src/logger.js'
import { createAppPubSub } from '../server/src/pubsub.js'

const { values: args } = parseArgs({
  options: {
    decisions: { type: 'string', default: '1000' },
    fanout: { type: 'string', default: '100,1000' },
    rounds: { type: 'string', default: '5' },
  },
})
const DECISIONS = Number(args.decisions)
/** Decisions made before each decision case's measured ones, not counted. */
const WARMUP = 50
const FANOUT = args.fanout!.split(',').map(Number)
const ROUNDS = Number(args.rounds)
const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL
if (!databaseUrl || !redisUrl) {
  console.error('set DATABASE_URL (postgres://...) and REDIS_URL (redis://...)')
  process.exit(2)
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const ms = (v: number) => `${v.toFixed(2)} ms`
const summary = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), n: values.length })

async function withDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
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

interface Instance {
  app: App
  db: Database
  port: number
  close(): Promise<void>
}

/** Subscriptions listening so far, per field, on every instance (each instance reports them through onSubscribed). */
const listening = { approvalDecision: 0, approvalInbox: 0, approvedActions: 0 }
const listeners = new Set<() => void>()
/** Resolves once `count` more subscriptions of `field` than `from` are listening. */
function listeningReached(field: keyof typeof listening, from: number, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (listening[field] - from < count) return
      listeners.delete(check)
      resolve()
    }
    listeners.add(check)
    check()
  })
}

async function startInstance(url: string): Promise<Instance> {
  const db = await openDatabase({ url })
  await db.migrate()
  const publish = new Redis(redisUrl!, { enableOfflineQueue: false })
  const subscribe = new Redis(redisUrl!, { maxRetriesPerRequest: null })
  await Promise.all([publish, subscribe].map((c) => new Promise((r) => c.once('ready', r))))
  const app = buildApp({
    db,
    logger: createLogger('warn'),
    redis: publish,
    pubsub: createAppPubSub({ publish, subscribe, onPublishError: (err) => console.error(err) }),
    schedulerIntervalMs: 0,
    maxSubscriptionsPerConnection: 1000,
    // the agent waits on every decision at once, and requests and decisions come as fast as the
    // service takes them: the abuse limits would refuse the benchmark's own load
    maxSubscriptionsPerPrincipal: Math.max(200, WARMUP + DECISIONS),
    rateLimit: { perMinute: 0 },
    onSubscribed: (field) => {
      listening[field]++
      for (const check of [...listeners]) check()
    },
  })
  const port = await app.listen(0, '127.0.0.1')
  return {
    app,
    db,
    port,
    close: async () => {
      await app.stop()
      publish.disconnect()
      subscribe.disconnect()
    },
  }
}

async function gql(port: number, token: string, query: string, variables: object = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  const body = (await res.json()) as { data: any; errors?: unknown }
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data
}

function wsClient(port: number, token: string): Client {
  return createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false })
}

/** Users (and agents) straight into the database: the benchmark measures delivery, not sign-up. */
async function makeUsers(db: Database, count: number, roleKey: string): Promise<{ id: string; token: string }[]> {
  const role = await db.prisma.role.findUniqueOrThrow({ where: { key: roleKey } })
  const users: { id: string; token: string }[] = []
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
      const token = generateToken()
      const user = await db.prisma.user.create({
        data: {
          email: `u${i + j}-${randomBytes(3).toString('hex')}@bench.test`,
          name: `User ${i + j}`,
          roles: { connect: { id: role.id } },
          apiTokens: { create: { name: 'bench', tokenHash: hashToken(token) } },
        },
        select: { id: true },
      })
      return { id: user.id, token }
    })
    users.push(...(await Promise.all(batch)))
  }
  return users
}

async function redisFloor(count: number): Promise<number[]> {
  const pub = new Redis(redisUrl!)
  const sub = new Redis(redisUrl!)
  const channel = `bench:${randomBytes(4).toString('hex')}`
  await sub.subscribe(channel)
  const times: number[] = []
  let resolveNext: (() => void) | undefined
  sub.on('message', () => resolveNext?.())
  for (let i = 0; i < count; i++) {
    const arrived = new Promise<void>((r) => (resolveNext = r))
    const t0 = performance.now()
    await pub.publish(channel, String(i))
    await arrived
    times.push(performance.now() - t0)
  }
  pub.disconnect()
  sub.disconnect()
  return times
}

/** Approves `WARMUP` + `DECISIONS` pending requests through `decideOn`, with the agent waiting on `waitOn`; measures the last `DECISIONS`. */
async function decisionLatency(waitOn: Instance, decideOn: Instance, agentToken: string, reviewerToken: string) {
  const ids: string[] = []
  for (let i = 0; i < WARMUP + DECISIONS; i++) {
    const res = await gql(decideOn.port, agentToken, `mutation($p: JSON!) { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "send_email", params: $p }) { request { id } } }`, { p: { to: 'x@bench.test', subject: 'Bench', body: 'Hello', i } })
    ids.push(res.requestApproval.request.id)
  }
  const arrivals = new Map<string, (t: number) => void>()
  const started = listeningReached('approvalDecision', listening.approvalDecision, ids.length)
  const clients = Array.from({ length: Math.ceil(ids.length / 500) }, () => wsClient(waitOn.port, agentToken))
  ids.forEach((id, i) =>
    clients[i % clients.length]!.subscribe(
      { query: `subscription($id: ID!) { approvalDecision(requestId: $id) { id status } }`, variables: { id } },
      { next: () => arrivals.get(id)?.(performance.now()), error: (e) => console.error(e), complete: () => {} },
    ),
  )
  await started // every subscription listens
  const fromReturn: number[] = []
  const fromCall: number[] = []
  let beforeReturn = 0
  for (const [i, id] of ids.entries()) {
    const arrived = new Promise<number>((r) => arrivals.set(id, r))
    const t0 = performance.now()
    await gql(decideOn.port, reviewerToken, `mutation($id: ID!) { approveRequest(id: $id) { id } }`, { id })
    const t1 = performance.now()
    const t2 = await arrived
    if (i < WARMUP) continue // the first decisions of a case warm the JIT and the connections up
    if (t2 < t1) beforeReturn++
    fromReturn.push(Math.max(0, t2 - t1))
    fromCall.push(t2 - t0)
  }
  await Promise.all(clients.map((c) => c.dispose()))
  return { fromReturn, fromCall, beforeReturn }
}

/**
 * Approves `DECISIONS` pending requests of a fresh agent through `decideOn`, one at a time, while
 * that agent's SDK worker (`approvals.worker()`) listens on `workOn`: the time from approveRequest
 * returning to the handler starting (the push, the claim, the digest check).
 */
async function handlerLatency(workOn: Instance, decideOn: Instance, ownerId: string, reviewerToken: string) {
  const agent = await decideOn.db.prisma.agent.create({ data: { name: `Worker agent ${randomBytes(2).toString('hex')}`, ownerId } })
  const agentToken = generateToken()
  await decideOn.db.prisma.apiToken.create({ data: { name: 'bench', tokenHash: hashToken(agentToken), agentId: agent.id } })
  const ids: string[] = []
  for (let i = 0; i < DECISIONS; i++) {
    const res = await gql(decideOn.port, agentToken, `mutation($p: JSON!) { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "send_email", params: $p }) { request { id } } }`, { p: { to: 'x@bench.test', subject: 'Bench', body: 'Hello', i } })
    ids.push(res.requestApproval.request.id)
  }
  const started = new Map<string, (t: number) => void>()
  const approvals = createApprovals({ url: `http://127.0.0.1:${workOn.port}/graphql`, token: agentToken })
  const worker = approvals.worker({
    concurrency: 8,
    handlers: { send_email: (_params, { requestId }) => void started.get(requestId!)?.(performance.now()) },
    onError: (error) => console.error(error),
  })
  // the worker is listening once a first approval reaches it
  const warm = await gql(decideOn.port, agentToken, `mutation { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "send_email", params: { to: "w@bench.test", subject: "Warm", body: "up" } }) { request { id } } }`)
  const warmed = new Promise<number>((r) => started.set(warm.requestApproval.request.id, r))
  await gql(decideOn.port, reviewerToken, `mutation($id: ID!) { approveRequest(id: $id) { id } }`, { id: warm.requestApproval.request.id })
  await warmed
  const fromReturn: number[] = []
  for (const id of ids) {
    const handled = new Promise<number>((r) => started.set(id, r))
    await gql(decideOn.port, reviewerToken, `mutation($id: ID!) { approveRequest(id: $id) { id } }`, { id })
    const t1 = performance.now()
    fromReturn.push(Math.max(0, (await handled) - t1))
  }
  await worker.stop()
  await approvals.close()
  return fromReturn
}

async function fanout(a: Instance, b: Instance, n: number, agentToken: string): Promise<{ last: number[]; all: number[]; heapPerSubscriber: number }> {
  const reviewers = await makeUsers(a.db, n, 'manager')
  // half the reviewers on each instance
  const received = new Map<string, (t: number) => void>()
  global.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const started = listeningReached('approvalInbox', listening.approvalInbox, n)
  const clients = reviewers.map((r, i) => wsClient(i % 2 ? b.port : a.port, r.token))
  clients.forEach((c, i) =>
    c.subscribe(
      { query: `subscription { approvalInbox { type request { id } } }` },
      { next: () => received.get(reviewers[i]!.id)?.(performance.now()), error: (e) => console.error(e), complete: () => {} },
    ),
  )
  await started // every inbox listens, its pending requests read
  global.gc?.()
  const heapPerSubscriber = (process.memoryUsage().heapUsed - heapBefore) / n
  const last: number[] = []
  const all: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const pending = reviewers.map((r) => new Promise<number>((res) => received.set(r.id, res)))
    const t0 = performance.now()
    await gql(a.port, agentToken, `mutation($p: JSON!) { requestApproval(input: { resourceType: AGENT_ACTION, actionType: "browse_website", module: "fanout-${n}", params: $p }) { request { id } } }`, { p: { url: 'https://example.com', round } })
    const times = (await Promise.all(pending)).map((t) => t - t0)
    all.push(...times)
    last.push(Math.max(...times))
  }
  await Promise.all(clients.map((c) => c.dispose()))
  // the next case's ROLE rule would reach these users too: make them unavailable
  await a.db.prisma.user.updateMany({ where: { id: { in: reviewers.map((r) => r.id) } }, data: { available: false } })
  return { last, all, heapPerSubscriber }
}

await withDatabase(async (url) => {
  const a = await startInstance(url)
  const b = await startInstance(url)
  try {
    const ownerToken = generateToken()
    const owner = await a.db.prisma.user.create({
      data: { email: 'owner@bench.test', name: 'Owner', roles: { connect: { key: 'owner' } }, apiTokens: { create: { name: 'bench', tokenHash: hashToken(ownerToken) } } },
    })
    const [reviewer] = await makeUsers(a.db, 1, 'member')
    const agent = await a.db.prisma.agent.create({ data: { name: 'Bench agent', ownerId: owner.id } })
    const agentToken = generateToken()
    await a.db.prisma.apiToken.create({ data: { name: 'bench', tokenHash: hashToken(agentToken), agentId: agent.id } })
    await gql(a.port, ownerToken, `mutation($u: ID!) { createApprovalRule(input: { name: "email", resourceType: AGENT_ACTION, actionType: "send_email", primaryResolver: { type: NAMED_USER, userId: $u } }) { id } }`, { u: encodeGlobalID('User', reviewer!.id) })

    console.log(`approvals realtime benchmark: ${DECISIONS} decisions per case, fan-out to ${FANOUT.join(' and ')} inboxes (${ROUNDS} rounds each)`)
    console.log(`node ${process.version}, PostgreSQL ${(await a.db.prisma.$queryRaw<{ v: string }[]>`SELECT current_setting('server_version') AS v`)[0]!.v}, Redis ${(await new Redis(redisUrl!).info('server')).match(/redis_version:(\S+)/)?.[1]}`)

    const floor = summary(await redisFloor(DECISIONS))
    console.log(`\nRedis PUBLISH -> message (the floor):        p50 ${ms(floor.p50)}  p99 ${ms(floor.p99)}`)

    for (const [label, waitOn, decideOn] of [['one instance', a, a], ['across two instances', b, a]] as const) {
      const r = await decisionLatency(waitOn, decideOn, agentToken, reviewer!.token)
      const s = summary(r.fromReturn)
      const c = summary(r.fromCall)
      console.log(
        `decision -> agent, ${label.padEnd(21)} p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  (p99/floor ${(s.p99 / floor.p99).toFixed(1)}x; from the call's start p50 ${ms(c.p50)} p99 ${ms(c.p99)}; ${r.beforeReturn}/${DECISIONS} arrived before the mutation's response)`,
      )
    }

    for (const [label, workOn, decideOn] of [['one instance', a, a], ['across two instances', b, a]] as const) {
      const s = summary(await handlerLatency(workOn, decideOn, owner.id, reviewer!.token))
      console.log(`approveRequest -> SDK handler, ${label.padEnd(21)} p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  (p99/floor ${(s.p99 / floor.p99).toFixed(1)}x)`)
    }

    for (const n of FANOUT) {
      await gql(a.port, ownerToken, `mutation($m: String!) { createApprovalRule(input: { name: $m, resourceType: AGENT_ACTION, actionType: "browse_website", module: $m, primaryResolver: { type: ROLE, roleKey: "manager" } }) { id } }`, { m: `fanout-${n}` })
      const r = await fanout(a, b, n, agentToken)
      const last = summary(r.last)
      const each = summary(r.all)
      console.log(
        `new request -> ${String(n).padStart(4)} inboxes (two instances):  all reached in p50 ${ms(last.p50)} (worst of ${ROUNDS} rounds ${ms(Math.max(...r.last))}); per inbox p50 ${ms(each.p50)} p99 ${ms(each.p99)}; heap per idle subscriber ${(r.heapPerSubscriber / 1024).toFixed(1)} KiB${global.gc ? '' : ' (without --expose-gc: rough)'}`,
      )
    }
  } finally {
    await a.close()
    await b.close()
  }
})
process.exit(0)
