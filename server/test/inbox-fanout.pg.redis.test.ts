// One request reaching inboxes spread over two instances (one PostgreSQL, one Redis): one event
// per change crosses Redis, and each instance loads the request once for all its subscribers,
// whichever instance made the change.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { generateToken, hashToken } from '../src/auth/tokens.js'
import { collect, createAgentWithToken, createRule, createUserWithToken, decide, freshDatabase, startServer, type Collected, type DatabaseLocation, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
const PER_INSTANCE = 20
let location: DatabaseLocation
let a: TestServer
let b: TestServer
const statements = { a: 0, b: 0 }

beforeAll(async () => {
  location = await freshDatabase()
  const redisUrl = process.env.TEST_REDIS_URL!
  // a long catch-up interval: nothing arrives by a re-read
  const common = { location, redisUrl, ownerToken: 'inbox-fanout-owner-token', catchUpIntervalMs: 60_000 }
  a = await startServer({ ...common, onQuery: () => void statements.a++ })
  b = await startServer({ ...common, onQuery: () => void statements.b++ })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
})

/** Users holding a new role `roleKey`, with tokens, straight into the shared database. */
async function usersWithRole(roleKey: string, count: number): Promise<Principal[]> {
  const role = await a.db.prisma.role.create({ data: { key: roleKey, name: roleKey, permissions: ['approval:resolve'] } })
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const token = generateToken()
      const user = await a.db.prisma.user.create({
        data: { email: `${roleKey}-${i}@fanout.test`, name: `${roleKey} ${i}`, roles: { connect: { id: role.id } }, apiTokens: { create: { name: 'test', tokenHash: hashToken(token) } } },
        select: { id: true },
      })
      return { id: user.id, token }
    }),
  )
}

const INBOX = `subscription { approvalInbox { type request { id status summary requester { name } } } }`

/** Opens inboxes for `principals`, alternately on `servers`; resolves once all listen. */
async function inboxes(principals: Principal[], servers: TestServer[]): Promise<Collected[]> {
  const listening = Promise.all(servers.map((s, k) => s.subscribed('approvalInbox', principals.filter((_, i) => i % servers.length === k).length)))
  const subs = principals.map((p, i) => collect(servers[i % servers.length]!.ws(p.token), INBOX))
  await listening
  return subs
}

/** The statements each instance runs from the start of `change` until every inbox has one more event. */
async function statementsUntilReached(subs: Collected[], change: () => Promise<unknown>): Promise<{ a: number; b: number }> {
  const expected = subs.map((s) => s.events.length + 1)
  const before = { ...statements }
  await change()
  await Promise.all(subs.map((s, i) => s.waitFor(expected[i]!, 10_000)))
  return { a: statements.a - before.a, b: statements.b - before.b }
}

it(`a request made on A reaches ${2 * PER_INSTANCE} inboxes on A and B for one load on each, and nobody else`, async () => {
  const agent = await createAgentWithToken(a, { name: 'Asker' })
  const stranger = await createUserWithToken(a, { email: 'stranger@example.com', name: 'Stranger', roleKeys: ['member'] })
  const [solo] = await usersWithRole('solo', 1)
  const crowd = await usersWithRole('crowd', 2 * PER_INSTANCE)
  for (const key of ['solo', 'crowd']) {
    await createRule(a, { name: key, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: key, primaryResolver: { type: 'ROLE', roleKey: key } })
  }
  const ask = async (module: string) => {
    const res = await a.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`, { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: module }, summary: module } }, agent.token)
    expect(res.errors).toBeUndefined()
    return res.data.requestApproval.request.id as string
  }

  // the stranger listens on B too, and is a reviewer of none of these
  const [strangerInbox] = await inboxes([stranger], [b])
  // one inbox on B, then one per reviewer over both
  const one = await inboxes([solo!], [b])
  const many = await inboxes(crowd, [a, b])
  await statementsUntilReached(one, () => ask('solo')) // warm-up: the asker's token use is recorded once
  const toOne = await statementsUntilReached(one, () => ask('solo'))
  const toMany = await statementsUntilReached(many, () => ask('crowd'))
  const id = many[0]!.events[0]!.data!.approvalInbox.request.id
  expect(many.map((s) => s.events.map((e) => e.data!.approvalInbox))).toEqual(
    crowd.map(() => [{ type: 'ADDED', request: { id, status: 'PENDING', summary: 'crowd', requester: { name: 'Asker' } } }]),
  )
  console.log(`statements: new request to 1 inbox (on B): A ${toOne.a}, B ${toOne.b}; to ${2 * PER_INSTANCE} (half on each): A ${toMany.a}, B ${toMany.b}`)
  // B only fans out: the same statements for 20 inboxes as for one (one load). A makes the
  // request, and loads it once for its 20; for the first request, which concerns none of its
  // subscribers, it loaded nothing
  expect(toMany.b - toOne.b).toBeLessThanOrEqual(1)
  expect(toMany.a - toOne.a).toBeLessThanOrEqual(toOne.b + 1)
  // ...and the request for solo, none of whose reviewers listens on A, cost A no load at all
  expect(toOne.a + toOne.b).toBeLessThanOrEqual(toMany.a)

  // decided on B: REMOVED for every reviewer on both
  const removed = await statementsUntilReached(many, () => decide(b, crowd[0]!.token, id, 'approveRequest'))
  expect(many.map((s) => s.events[1]!.data!.approvalInbox)).toEqual(crowd.map(() => ({ type: 'REMOVED', request: expect.objectContaining({ id, status: 'APPROVED' }) })))
  console.log(`statements: decision on B to ${2 * PER_INSTANCE} inboxes: A ${removed.a}, B ${removed.b}`)
  // A only fans out this time
  expect(removed.a).toBeLessThanOrEqual(toOne.b + 1)

  // the stranger's inbox is live: the first thing it hears is a request for it
  await createRule(a, { name: 'stranger', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'stranger', primaryResolver: { type: 'NAMED_USER', userId: stranger.id } })
  const forStranger = await ask('stranger')
  const [first] = await strangerInbox!.waitFor(1)
  expect(first!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id: forStranger } })
  for (const s of [strangerInbox!, ...one, ...many]) s.dispose()
})
