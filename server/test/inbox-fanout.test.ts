// One request change reaching many inboxes on one instance: the instance loads the request once
// and decides every subscriber's event in memory, so the statements it costs do not grow with
// the number of subscribers. Also: what each subscriber is told (ADDED, UPDATED, REMOVED, or
// nothing) is unchanged, and only what the subscriber may see reaches it.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REVIEW_REQUEST } from '../../sdk/src/operations.js'
import { generateToken, hashToken } from '../src/auth/tokens.js'
import {
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  getRequest,
  ManualClock,
  REQUEST_FIELDS,
  requestApproval,
  startServer,
  type Collected,
  type TestServer,
} from './harness.js'

type Principal = { id: string; token: string }
const MANY = 50
const clock = new ManualClock()
let server: TestServer
let statements = 0
let agent: Principal
let crowd: Principal[]
let solo: Principal

/** The selection the SDK's reviewer and the tests use most: the request with its requester's name. */
const INBOX = `subscription { approvalInbox { type request { id status summary requester { name } } } }`
/** A second, different selection: loaded once per event for all who select it. */
const INBOX_IDS = `subscription { approvalInbox { type request { id actionType reviewers { id } } } }`

/** Users holding `roleKey`, with tokens, straight into the database: the test measures delivery, not sign-up. */
async function usersWithRole(roleKey: string, count: number): Promise<Principal[]> {
  const role = await server.db.prisma.role.create({ data: { key: roleKey, name: roleKey, permissions: ['approval:resolve'] } })
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const token = generateToken()
      const user = await server.db.prisma.user.create({
        data: { email: `${roleKey}-${i}@fanout.test`, name: `${roleKey} ${i}`, roles: { connect: { id: role.id } }, apiTokens: { create: { name: 'test', tokenHash: hashToken(token) } } },
        select: { id: true },
      })
      return { id: user.id, token }
    }),
  )
}

beforeAll(async () => {
  server = await startServer({ clock, onQuery: () => void statements++ })
  agent = await createAgentWithToken(server, { name: 'Asker' })
  crowd = await usersWithRole('crowd', MANY)
  solo = (await usersWithRole('solo', 1))[0]!
  await createRule(server, { name: 'crowd', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'crowd', primaryResolver: { type: 'ROLE', roleKey: 'crowd' } })
  await createRule(server, { name: 'solo', resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module: 'solo', primaryResolver: { type: 'ROLE', roleKey: 'solo' } })
})
afterAll(() => server?.destroy())
// every test's inboxes end with it, passed or failed: one left open would hear the next test's requests
const open: Collected[] = []
afterEach(async () => {
  for (const s of open.splice(0)) s.dispose()
  await server.waitForSubscriptionCount(0)
})

const ask = async (module: string, summary = `for ${module}`) => {
  const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: summary }, summary })
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id as string
}

/** Opens an inbox subscription for each principal (`query` for each, or per index); resolves once all listen. */
async function inboxes(principals: Principal[], query: string | ((i: number) => string) = INBOX): Promise<Collected[]> {
  const listening = server.subscribed('approvalInbox', principals.length)
  const subs = principals.map((p, i) => collect(server.ws(p.token), typeof query === 'string' ? query : query(i)))
  open.push(...subs)
  await listening
  return subs
}

/** The statements from the start of `change` until every inbox in `subs` has one more event. */
async function statementsUntilReached(subs: Collected[], change: () => Promise<unknown>): Promise<number> {
  const expected = subs.map((s) => s.events.length + 1)
  const before = statements
  await change()
  await Promise.all(subs.map((s, i) => s.waitFor(expected[i]!, 15_000)))
  return statements - before
}

describe('fan-out', () => {
  it(`a new request and its decision reach ${MANY} inboxes for the statements they cost to reach one`, async () => {
    const one = await inboxes([solo])
    const many = await inboxes(crowd)
    // warm-up: the asker's token use is recorded (a write) on its first request
    await statementsUntilReached(one, () => ask('solo'))

    const toOne = await statementsUntilReached(one, () => ask('solo'))
    const toMany = await statementsUntilReached(many, () => ask('crowd', 'for everyone'))
    expect(many.map((s) => s.events.at(-1)!.data!.approvalInbox)).toEqual(
      crowd.map(() => ({ type: 'ADDED', request: expect.objectContaining({ status: 'PENDING', summary: 'for everyone', requester: { name: 'Asker' } }) })),
    )
    // the decision: REMOVED for every reviewer
    const soloRequest = one.at(-1)!.events.at(-1)!.data!.approvalInbox.request.id
    const crowdRequest = many[0]!.events.at(-1)!.data!.approvalInbox.request.id
    const removedFromOne = await statementsUntilReached(one, () => decide(server, solo!.token, soloRequest, 'approveRequest'))
    const removedFromMany = await statementsUntilReached(many, () => decide(server, crowd[0]!.token, crowdRequest, 'approveRequest'))
    expect(many.map((s) => s.events.at(-1)!.data!.approvalInbox)).toEqual(crowd.map(() => ({ type: 'REMOVED', request: expect.objectContaining({ id: crowdRequest, status: 'APPROVED' }) })))
    console.log(`statements: new request to 1 inbox ${toOne}, to ${MANY} ${toMany}; decision to 1 ${removedFromOne}, to ${MANY} ${removedFromMany}`)
    // the request's own statements differ a little with its reviewers (none per reviewer); nothing per subscriber
    expect(toMany - toOne).toBeLessThanOrEqual(2)
    expect(removedFromMany - removedFromOne).toBeLessThanOrEqual(2)
  })

  it('subscribers selecting differently cost one load per distinct selection, not one per subscriber', async () => {
    const one = await inboxes([solo])
    const mixed = await inboxes(crowd, (i) => (i % 2 ? INBOX_IDS : INBOX))
    await statementsUntilReached(one, () => ask('solo'))
    const toOne = await statementsUntilReached(one, () => ask('solo'))
    const toMixed = await statementsUntilReached(mixed, () => ask('crowd', 'mixed'))
    const shapes = mixed.map((s) => s.events.at(-1)!.data!.approvalInbox)
    expect(shapes.filter((e) => e.request.reviewers)).toHaveLength(MANY / 2)
    expect(shapes.filter((e) => e.request.summary === 'mixed')).toHaveLength(MANY / 2)
    console.log(`statements: new request to 1 inbox ${toOne}, to ${MANY} with two selections ${toMixed}`)
    // the second selection: its request row and its relations, once
    expect(toMixed - toOne).toBeLessThanOrEqual(6)
  })
})

describe('requestChanged events', () => {
  it('one naming other reviewers is skipped; one naming nobody (too many to name) is decided for everyone', async () => {
    const [inbox] = await inboxes([solo])
    const id = decodeGlobalID(await ask('solo', 'named')).id
    expect((await inbox!.waitFor(1))[0]!.data!.approvalInbox.type).toBe('ADDED')
    const before = statements
    server.app.pubsub.publish('requestChanged', { requestId: id, principals: [crowd[0]!.id] })
    // the same request's changes are handled in order: this one arrives after the skipped one
    server.app.pubsub.publish('requestChanged', { requestId: id })
    const [, again] = await inbox!.waitFor(2)
    expect(again!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { summary: 'named' } })
    // one load for the second only
    const oneLoad = statements - before
    expect(oneLoad).toBeGreaterThan(0)
    server.app.pubsub.publish('requestChanged', { requestId: id, principals: [solo.id] })
    await inbox!.waitFor(3)
    expect(statements - before).toBe(2 * oneLoad)
    expect(inbox!.events).toHaveLength(3)
  })
})

describe('who hears what', () => {
  let carol: Principal, bob: Principal, erin: Principal, admin: Principal, reviewerAgent: Principal
  let moduleSeq = 0
  beforeAll(async () => {
    carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
    bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
    erin = await createUserWithToken(server, { email: 'erin@example.com', name: 'Erin', roleKeys: ['member'] })
    admin = await createUserWithToken(server, { email: 'admin@example.com', name: 'Admin', roleKeys: ['admin'] })
    // erin's: a reviewer agent never reviews requests of an agent with its owner (the asker is the service owner's)
    reviewerAgent = await createAgentWithToken(server, { name: 'Reviewer agent', ownerId: erin.id })
    // carol and bob: a role to assign requests to both
    const users = [carol, bob].map((p) => ({ id: decodeGlobalID(p.id).id }))
    await server.db.prisma.role.create({ data: { key: 'fallback', name: 'Fallback', permissions: ['approval:resolve'], users: { connect: users } } })
  })
  const gate = async (rule: Record<string, unknown>, summary: string) => {
    const module = `who${++moduleSeq}`
    await createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, ...rule })
    return ask(module, summary)
  }

  it('only reviewers hear of a request: not the reviewer of another request, an agent that asked, or an approval viewer', async () => {
    const [carolInbox, erinInbox, agentInbox, adminInbox, reviewerAgentInbox] = await inboxes([carol, erin, agent, admin, reviewerAgent])
    const forCarol = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } }, 'for Carol')
    const [added] = await carolInbox!.waitFor(1)
    expect(added!.data!.approvalInbox).toEqual({ type: 'ADDED', request: { id: forCarol, status: 'PENDING', summary: 'for Carol', requester: { name: 'Asker' } } })
    // each of the others is live: the first thing each hears is a request meant for it
    const forErin = await gate({ primaryResolver: { type: 'NAMED_USER', userId: erin.id } }, 'for Erin')
    const forAgent = await gate({ primaryResolver: { type: 'AGENT', agentId: reviewerAgent.id } }, 'for the reviewer agent')
    expect((await erinInbox!.waitFor(1))[0]!.data!.approvalInbox.request.id).toBe(forErin)
    expect((await reviewerAgentInbox!.waitFor(1))[0]!.data!.approvalInbox.request.id).toBe(forAgent)
    // the asking agent and the admin (approval:view: may see every request) decide none of them
    await decide(server, carol.token, forCarol, 'rejectRequest')
    const [, removed] = await carolInbox!.waitFor(2)
    expect(removed!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id: forCarol, status: 'REJECTED' } })
    const forAdmin = await gate({ primaryResolver: { type: 'NAMED_USER', userId: admin.id } }, 'for Admin')
    expect((await adminInbox!.waitFor(1))[0]!.data!.approvalInbox.request.id).toBe(forAdmin)
    expect(agentInbox!.events).toEqual([])
    expect(erinInbox!.events).toHaveLength(1)
    expect(reviewerAgentInbox!.events).toHaveLength(1)
  })

  it('escalation: UPDATED for a reviewer who stays, ADDED for the new one, REMOVED for the one replaced', async () => {
    const [carolInbox, bobInbox, erinInbox] = await inboxes([carol, bob, erin])
    // erin first, then carol and bob (the fallback role), neither of whom reviewed it before
    const id = await gate({ primaryResolver: { type: 'NAMED_USER', userId: erin.id }, fallbackResolver: { type: 'ROLE', roleKey: 'fallback' }, escalateAfterSeconds: 60 }, 'escalating')
    expect((await erinInbox!.waitFor(1))[0]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id } })
    clock.advance(61)
    await server.app.scheduler.runOnce()
    expect((await erinInbox!.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id } })
    expect((await carolInbox!.waitFor(1))[0]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id } })
    expect((await bobInbox!.waitFor(1))[0]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id } })
    // carol first, then the same role: carol stays a reviewer (a new row), bob comes in
    const second = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id }, fallbackResolver: { type: 'ROLE', roleKey: 'fallback' }, escalateAfterSeconds: 60 }, 'stays')
    expect((await carolInbox!.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id: second } })
    clock.advance(61)
    await server.app.scheduler.runOnce()
    // carol reviewed it and still does: UPDATED; bob is new to it: ADDED
    expect((await carolInbox!.waitFor(3))[2]!.data!.approvalInbox).toMatchObject({ type: 'UPDATED', request: { id: second } })
    expect((await bobInbox!.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id: second } })
  })

  it('the payload, loaded once for all, is what each subscriber would read of the request itself', async () => {
    // the SDK's reviewer selection and the tests' widest one (reviewers, rule detail, record, events)
    const wide = `subscription { approvalInbox { type request { ${REQUEST_FIELDS} } } }`
    const sdk = `subscription { approvalInbox { type request { ${REVIEW_REQUEST} } } }`
    const subs = await inboxes([carol, bob, carol, bob], (i) => (i < 2 ? wide : sdk))
    const id = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'fallback' }, expiresAfterSeconds: 3600 }, 'shared')
    const events = await Promise.all(subs.map((s) => s.waitFor(1).then((e) => e[0]!)))
    for (const [i, p] of [carol, bob, carol, bob].entries()) {
      const own = await getRequest(server, p.token, id)
      const request = events[i]!.data!.approvalInbox.request
      expect(events[i]!.errors).toBeUndefined()
      expect(request).toEqual(i < 2 ? own.data.approvalRequest : expect.objectContaining({ id, summary: 'shared', rule: expect.objectContaining({ name: expect.any(String) }) }))
      if (i < 2) expect(request.reviewers.map((r: { id: string }) => r.id).sort()).toEqual([carol.id, bob.id].sort())
    }
  })
})
