// Issue 23, section 5 (high): the deadline scheduler could hang the process for good. A timer tick
// that arrived while a pass was still telling the app what it changed waited on the finished pass
// with `while (running) await running`, which spins on microtasks and never lets the event loop
// run again: no HTTP, no database replies, no SIGTERM. An agent could set it off alone with a burst
// of requests under a rule with a short expiry, and a restart with more overdue deadlines than one
// pass takes hung again. Here the scheduler's real timer runs (every 20 ms) while a pass is held
// open, and the server must go on answering real HTTP requests.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeadlineChanges } from '../src/approvals/scheduler.js'
import {
  createAgentWithToken,
  createRule,
  createUserWithToken,
  freshDatabase,
  ManualClock,
  requestApproval,
  startServer,
  TEST_DATABASE_URL,
  type DatabaseLocation,
  type TestServer,
} from './harness.js'

/** The request's status as its agent reads it (a requester sees its status and decision, not how it is reviewed). */
const statusOf = (server: TestServer, token: string, id: string) => server.gql(`query($id: ID!) { approvalRequest(id: $id) { status } }`, { id }, token)

/** The scheduler's timer in these tests: many ticks fall inside any pass. */
const INTERVAL_MS = 20
/** The most requests of one kind of deadline that one pass moves (scheduler.ts). */
const PASS_BATCH = 200
/** The agent's burst: more than one pass takes. */
const BURST = 300

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** GETs /healthz of `server`: answers only while the event loop runs. */
async function healthz(server: TestServer): Promise<number> {
  const res = await fetch(new URL('/healthz', server.url))
  await res.arrayBuffer()
  return res.status
}

/** The ids of `ruleId`'s requests with `status`, as an approval viewer (the owner) reads them, page by page. */
async function historyIds(server: TestServer, ruleId: string, status: string): Promise<string[]> {
  const ids: string[] = []
  let after: string | null = null
  for (;;) {
    const res: any = await server.gql(
      `query($filter: ApprovalHistoryFilter, $after: String) { approvalHistory(filter: $filter, first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
      { filter: { ruleId, status: [status] }, after },
      server.ownerToken,
    )
    expect(res.errors).toBeUndefined()
    ids.push(...res.data.approvalHistory.edges.map((e: { node: { id: string } }) => e.node.id))
    if (!res.data.approvalHistory.pageInfo.hasNextPage) return ids
    after = res.data.approvalHistory.pageInfo.endCursor
  }
}

describe('scheduler: a pass held open (issue 23, section 5)', () => {
  const clock = new ManualClock()
  let server: TestServer
  let agent: { id: string; token: string }
  /** While set, each pass that moves something stays open until it settles: a slow listener. */
  let hold: Promise<void> | undefined
  let onHeld: ((changes: DeadlineChanges) => void) | undefined
  const passed: ((changes: DeadlineChanges) => void)[] = []

  beforeAll(async () => {
    server = await startServer({
      clock,
      schedulerIntervalMs: INTERVAL_MS,
      onDeadlinesPassed: async (changes) => {
        passed.splice(0).forEach((wake) => wake(changes))
        if (hold) {
          onHeld?.(changes)
          await hold
        }
      },
    })
    const carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
    agent = await createAgentWithToken(server, { name: 'Poster' })
    await createRule(server, {
      name: 'Short expiry',
      resourceType: 'AGENT_ACTION',
      actionType: 'post_to_social',
      module: 'held',
      primaryResolver: { type: 'NAMED_USER', userId: carol.id },
      expiresAfterSeconds: 3,
    })
  })
  afterAll(() => server?.destroy())

  const ask = async () => {
    const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'held', params: { text: 'Launch!' } })
    expect(res.errors).toBeUndefined()
    return res.data.requestApproval.request.id as string
  }

  it('scheduler: a pass held open past the interval does not starve the event loop', async () => {
    const first = await ask()
    const release = deferred()
    const held = deferred<DeadlineChanges>()
    hold = release.promise
    onHeld = held.resolve
    clock.advance(4)
    // the timer's next pass expires it, then stays open in the listener
    expect((await held.promise).expired).toHaveLength(1)

    // while it is open the timer goes on ticking, for many intervals, and the server answers each request
    const since = performance.now()
    let answered = 0
    while (performance.now() - since < 10 * INTERVAL_MS || answered < 5) {
      expect(await healthz(server)).toBe(200)
      answered++
    }
    // and the agent reads the outcome the open pass committed
    expect((await statusOf(server, agent.token, first)).data.approvalRequest.status).toBe('EXPIRED')

    // let it go: the ticks it skipped left the timer running, and the next deadline is taken on time
    hold = undefined
    release.resolve()
    const second = await ask()
    const next = new Promise<DeadlineChanges>((resolve) => passed.push(resolve))
    clock.advance(4)
    expect((await next).expired).toHaveLength(1)
    expect((await statusOf(server, agent.token, second)).data.approvalRequest.status).toBe('EXPIRED')
  })
})

describe('scheduler: a burst of short deadlines (issue 23, section 5)', () => {
  const clock = new ManualClock()
  // a data folder (or database) that outlives the first server
  let dataDir: string | undefined
  let location: DatabaseLocation
  const ownerToken = 'starvation-owner-token'
  let ruleId: string
  const burst: string[] = []
  let server: TestServer | undefined

  beforeAll(async () => {
    dataDir = TEST_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'approvals-starvation-'))
    location = await freshDatabase(dataDir)
    const before = await startServer({ clock, location, ownerToken })
    try {
      const carol = await createUserWithToken(before, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
      const agent = await createAgentWithToken(before, { name: 'Burst' })
      const rule = await createRule(before, {
        name: 'Three seconds',
        resourceType: 'AGENT_ACTION',
        actionType: 'post_to_social',
        module: 'burst',
        primaryResolver: { type: 'NAMED_USER', userId: carol.id },
        expiresAfterSeconds: 3,
      })
      ruleId = rule.id
      // the agent's burst, ten at a time
      for (let i = 0; i < BURST; i += 10) {
        const created = await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            requestApproval(before, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'burst', params: { text: `post ${i + j}` } }),
          ),
        )
        for (const res of created) {
          expect(res.errors).toBeUndefined()
          burst.push(res.data.requestApproval.request.id)
        }
      }
    } finally {
      await before.stop()
    }
  }, 180_000)
  afterAll(async () => {
    await server?.stop()
    await location?.drop()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('scheduler: a burst of 300 requests under a rule with a 3 s expiry, overdue at a restart, expires over bounded passes while the server keeps answering', async () => {
    // the server comes back after the deadlines passed: more are overdue than one pass takes
    clock.advance(4)
    const passes: number[] = []
    const answeredInPasses: number[] = []
    const allExpired = deferred()
    const started = deferred<TestServer>()
    let expired = 0
    server = await startServer({
      clock,
      location,
      ownerToken,
      schedulerIntervalMs: INTERVAL_MS,
      onDeadlinesPassed: async (changes) => {
        passes.push(changes.expired.length)
        // while this pass is open (and the timer ticks), the server answers a real query
        const open = await started.promise
        const res = await open.gql(`{ viewer { __typename } }`, {}, open.ownerToken)
        if (!res.errors) answeredInPasses.push(changes.expired.length)
        expired += changes.expired.length
        if (expired >= BURST) allExpired.resolve()
      },
    })
    started.resolve(server)

    // meanwhile, between the passes too, health checks are answered
    let done = false
    void allExpired.promise.then(() => (done = true))
    while (!done) expect(await healthz(server)).toBe(200)

    // bounded passes: none moved more than its batch, and the burst took more than one
    expect(passes.length).toBeGreaterThan(1)
    for (const count of passes) expect(count).toBeLessThanOrEqual(PASS_BATCH)
    expect(passes.reduce((a, b) => a + b, 0)).toBe(BURST)
    expect(answeredInPasses).toEqual(passes)
    // what the owner sees: every request of the burst expired, none is left pending
    expect(new Set(await historyIds(server, ruleId, 'EXPIRED'))).toEqual(new Set(burst))
    expect(await historyIds(server, ruleId, 'PENDING')).toEqual([])
  }, 120_000)
})
