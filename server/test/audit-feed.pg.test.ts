// PostgreSQL only: the audit feed under concurrent writers, whose transactions commit out of order.
import { decodeGlobalID } from '@pothos/plugin-relay'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, freshDatabase, startServer, type DatabaseLocation, type TestServer } from './harness.js'

let location: DatabaseLocation & { url: string }
let a: TestServer
let b: TestServer
let agent: { id: string; token: string }

beforeAll(async () => {
  location = (await freshDatabase()) as DatabaseLocation & { url: string }
  a = await startServer({ location, ownerToken: 'audit-feed-owner' })
  b = await startServer({ location, ownerToken: 'audit-feed-owner' })
  const rita = await createUserWithToken(a, { email: 'rita@example.com', name: 'Rita', roleKeys: ['member'] })
  agent = await createAgentWithToken(a, { name: 'Mailer' })
  await createRule(a, { name: 'Emails', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: rita.id } })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
})

const FEED = `query($after: String) { approvalEvents(after: $after, first: 50) { edges { node { id } } pageInfo { endCursor } } }`

/** One poll of the feed from `after`: the events' database ids, and the cursor to keep. */
async function poll(s: TestServer, after: string | null) {
  const res = await s.gql(FEED, { after }, s.ownerToken)
  expect(res.errors).toBeUndefined()
  const page = res.data.approvalEvents
  return { ids: page.edges.map((e: { node: { id: string } }) => decodeGlobalID(e.node.id).id) as string[], cursor: (page.pageInfo.endCursor as string | null) ?? after }
}

async function ask(s: TestServer, subject: string): Promise<string> {
  const res = await s.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { to: 'x@example.com', subject, body: 'x' } } },
    agent.token,
  )
  expect(res.errors).toBeUndefined()
  return decodeGlobalID(res.data.requestApproval.request.id).id
}

/** Reads the whole feed so far; answers the cursor after it. */
async function readAll(s: TestServer): Promise<string | null> {
  let cursor: string | null = null
  for (;;) {
    const page = await poll(s, cursor)
    if (page.ids.length === 0) return cursor
    cursor = page.cursor
  }
}

it('a follower misses no event that commits after a later one was already handed out', async () => {
  const requestId = await ask(a, 'seed')
  const cursor = await readAll(a)
  // an event whose transaction stays open: its id comes first, its commit last
  const slow = new pg.Client({ connectionString: location.url })
  await slow.connect()
  await slow.query('BEGIN')
  const slowId = String((await slow.query(`INSERT INTO "ApprovalEvent" ("requestId", "type", "comment") VALUES ($1, 'ESCALATED', 'slow') RETURNING "id"`, [requestId])).rows[0].id)
  // meanwhile a later event commits, and the follower reads it
  await ask(a, 'fast')
  const first = await poll(a, cursor)
  expect(first.ids).toHaveLength(1)
  expect(BigInt(first.ids[0]!)).toBeGreaterThan(BigInt(slowId))
  await slow.query('COMMIT')
  await slow.end()
  // the earlier id, committed last, still reaches the follower after its cursor (here through the other instance)
  expect((await poll(b, first.cursor)).ids).toEqual([slowId])
})

it('several writers on two instances while a follower polls as fast as it can: the follower gets every event once, in the order of the table', async () => {
  const start = await readAll(a)
  const before = (await a.db.prisma.approvalEvent.aggregate({ _max: { sequence: true } }))._max.sequence ?? 0n
  const seen: string[] = []
  let cursor = start
  let writing = true
  const follower = (async () => {
    // polls (through either instance) until the writers are done and a poll finds nothing new
    for (let n = 0; ; n++) {
      const done = !writing
      const page = await poll(n % 2 ? a : b, cursor)
      seen.push(...page.ids)
      cursor = page.cursor
      if (done && page.ids.length === 0) return
    }
  })()
  await Promise.all(Array.from({ length: 40 }, (_, n) => ask(n % 2 ? a : b, `parallel ${n}`)))
  writing = false
  await follower
  const table = await a.db.prisma.approvalEvent.findMany({ where: { sequence: { gt: before } }, orderBy: { sequence: 'asc' }, select: { id: true } })
  expect(table).toHaveLength(40)
  expect(seen).toEqual(table.map((e) => String(e.id)))
})
