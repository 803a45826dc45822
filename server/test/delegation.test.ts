// Time away and delegation: setMyAvailability(available, until, delegateId) and updateUser's
// delegateId / awayUntil. While a user is away, their delegate (followed along a chain, never round
// a cycle) reviews in their place, with a DELEGATED event; their pending requests move to the
// delegate; at awayUntil the scheduler makes them available again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { codes, collect, createAgentWithToken, createRule, createUserWithToken, ManualClock, startServer, type Collected, type TestServer } from './harness.js'

type Principal = { id: string; token: string }

const clock = new ManualClock()
let server: TestServer
const UPDATE = `mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { available awayUntil delegate { id } } }`
let agent: Principal
let ann: Principal
let ben: Principal
let cat: Principal
let dan: Principal
let guest: Principal
const open: Collected[] = []

beforeAll(async () => {
  server = await startServer({ clock })
  const user = (name: string, roleKeys = ['member']) => createUserWithToken(server, { email: `${name}@example.com`, name, roleKeys })
  ann = await user('ann')
  ben = await user('ben')
  cat = await user('cat')
  dan = await user('dan')
  // someone who cannot decide anything: no role with approval:resolve (roles are set up as data)
  await server.db.prisma.role.create({ data: { key: 'observer', name: 'Observer', permissions: ['approval:view'] } })
  guest = await createUserWithToken(server, { email: 'guest@example.com', name: 'Guest', roleKeys: ['observer'] })
  agent = await createAgentWithToken(server, { name: 'Helper' })
  for (const who of [ann, ben, cat]) {
    await createRule(server, {
      name: `to ${who.id}`,
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      module: who === ann ? 'ann' : who === ben ? 'ben' : 'cat',
      primaryResolver: { type: 'NAMED_USER', userId: who.id },
      fallbackResolver: { type: 'NAMED_USER', userId: dan.id },
    })
  }
})
afterAll(async () => {
  for (const s of open) s.dispose()
  await server?.destroy()
})

const email = { to: 'client@example.com', subject: 'Hello', body: 'Hi.' }
async function ask(module: string): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: email } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval.request.id
}
const AWAY = `mutation($a: Boolean!, $u: DateTime, $d: ID) { setMyAvailability(available: $a, until: $u, delegateId: $d) { id available awayUntil delegate { id } } }`
const away = (p: Principal, available: boolean, until?: Date | null, delegateId?: string | null) =>
  server.gql(AWAY, { a: available, u: until?.toISOString() ?? until, d: delegateId }, p.token)
const READ = `query($id: ID!) { approvalRequest(id: $id) { status reviewers { id } events { type comment details } } }`
const read = async (id: string) => (await server.gql(READ, { id }, server.ownerToken)).data.approvalRequest
const ids = (list: { id: string }[]) => list.map((p) => p.id).sort()
const inAnHour = () => new Date(clock.now().getTime() + 3600_000)

describe('delegation and time away', () => {
  it('an away user with a delegate: new requests go to the delegate, with a DELEGATED event naming both', async () => {
    const res = await away(ann, false, inAnHour(), ben.id)
    expect(res.errors).toBeUndefined()
    expect(res.data.setMyAvailability).toEqual({ id: ann.id, available: false, awayUntil: inAnHour().toISOString(), delegate: { id: ben.id } })
    const id = await ask('ann')
    const request = await read(id)
    expect(ids(request.reviewers)).toEqual([ben.id])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'DELEGATED'])
    expect(request.events[1].details).toEqual({ absent: ann.id, delegate: ben.id })
    expect((await server.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id }, ben.token)).data.approveRequest.status).toBe('APPROVED')
    await away(ann, true)
  })

  it('follows a chain of delegates; a cycle or a chain that ends with nobody falls back as today', async () => {
    // ann -> ben -> cat: ben is away too, so cat reviews
    await away(ben, false, null, cat.id)
    await away(ann, false, null, ben.id)
    let request = await read(await ask('ann'))
    expect(ids(request.reviewers)).toEqual([cat.id])
    expect(request.events.find((e: { type: string }) => e.type === 'DELEGATED').details).toEqual({ absent: ann.id, delegate: cat.id })
    // cat away without a delegate: the chain ends with nobody, so the rule's fallback takes it
    await away(cat, false)
    request = await read(await ask('ann'))
    expect(ids(request.reviewers)).toEqual([dan.id])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'ESCALATED'])
    for (const p of [ann, ben, cat]) await away(p, true)
  })

  it('refuses a delegate that is the user, unknown, unable to decide, or that closes a cycle; nothing changes', async () => {
    await away(ann, true, null, null)
    expect((await away(ben, false, null, ann.id)).errors).toBeUndefined()
    for (const [delegateId, message] of [
      [ann.id, /own delegate/],
      [guest.id, /cannot decide/],
      [ben.id, /cycle/],
    ] as const) {
      const res = await away(ann, false, null, delegateId)
      expect(codes(res)).toEqual(['BAD_USER_INPUT'])
      expect(res.errors![0]!.message).toMatch(message)
    }
    expect(codes(await away(ann, false, null, 'VXNlcjowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA='))).toEqual(['BAD_USER_INPUT'])
    // a return date in the past, or with available: true
    expect(codes(await away(ann, false, new Date(clock.now().getTime() - 1000)))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await away(ann, true, inAnHour()))).toEqual(['BAD_USER_INPUT'])
    const me = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { available awayUntil delegate { id } } } }`, { id: ann.id }, server.ownerToken)
    expect(me.data.node).toEqual({ available: true, awayUntil: null, delegate: null })
    await away(ben, true, null, null)
  })

  it('going away moves pending requests to the delegate (inbox events on both sides); the scheduler brings the user back at awayUntil', async () => {
    const INBOX = `subscription { approvalInbox { type request { id } } }`
    const listening = server.subscribed('approvalInbox', 2)
    const [annInbox, danInbox] = [ann, dan].map((p) => collect(server.ws(p.token), INBOX))
    open.push(annInbox!, danInbox!)
    await listening
    const first = await ask('ann')
    const second = await ask('ann')
    await annInbox!.waitFor(2)
    const res = await away(ann, false, inAnHour(), dan.id)
    expect(res.errors).toBeUndefined()
    for (const id of [first, second]) {
      const request = await read(id)
      expect(ids(request.reviewers)).toEqual([dan.id])
      expect(request.events.at(-1)).toMatchObject({ type: 'DELEGATED', details: { absent: ann.id, delegate: dan.id } })
    }
    const annEvents = (await annInbox!.waitFor(4)).slice(2).map((e) => e.data!.approvalInbox)
    expect(annEvents).toEqual(expect.arrayContaining([{ type: 'REMOVED', request: { id: first } }, { type: 'REMOVED', request: { id: second } }]))
    const danEvents = (await danInbox!.waitFor(2)).map((e) => e.data!.approvalInbox)
    expect(danEvents).toEqual(expect.arrayContaining([{ type: 'ADDED', request: { id: first } }, { type: 'ADDED', request: { id: second } }]))
    // ann's decision is no longer hers to make
    expect(codes(await server.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id: first }, ann.token))).toEqual(['FORBIDDEN'])

    clock.advance(3599)
    expect((await server.app.scheduler.runOnce()).returned).toEqual([])
    clock.advance(2)
    const changes = await server.app.scheduler.runOnce()
    expect(changes.returned).toEqual([expect.any(String)])
    const me = await server.gql(`{ viewer { principal { ... on User { available awayUntil delegate { id } } } } }`, {}, ann.token)
    expect(me.data.viewer.principal).toEqual({ available: true, awayUntil: null, delegate: { id: dan.id } })
    expect(ids((await read(await ask('ann'))).reviewers)).toEqual([ann.id])
  })

  it('the self-approval rules hold for a delegate: the person a request is for is never their own delegate reviewer', async () => {
    // the agent acts for its owner; a rule whose reviewer delegates to that owner falls back instead
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    await away(cat, false, null, owner)
    const request = await read(await ask('cat'))
    expect(ids(request.reviewers)).toEqual([dan.id])
    expect(request.events.map((e: { type: string }) => e.type)).not.toContain('DELEGATED')
    await away(cat, true)
  })

  it('directory managers set delegateId and awayUntil with updateUser; others may not', async () => {
    const until = inAnHour().toISOString()
    const res = await server.gql(UPDATE, { id: ben.id, i: { delegateId: cat.id, awayUntil: until } }, server.ownerToken)
    expect(res.data.updateUser).toEqual({ available: false, awayUntil: until, delegate: { id: cat.id } })
    expect(ids((await read(await ask('ben'))).reviewers)).toEqual([cat.id])
    const refused = await server.gql(UPDATE, { id: ben.id, i: { delegateId: null } }, ann.token)
    expect(codes(refused)).toEqual(['FORBIDDEN'])
    const cycle = await server.gql(UPDATE, { id: cat.id, i: { delegateId: ben.id } }, server.ownerToken)
    expect(cycle.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.delegateId' })
    await server.gql(UPDATE, { id: ben.id, i: { available: true } }, server.ownerToken)
  })

  it('an agent may not set availability (it is a user\'s own)', async () => {
    expect(codes(await away(agent, false))).toEqual(['FORBIDDEN'])
  })

  it("an agent does not learn whom a user it does not act for has named as delegate", async () => {
    await server.gql(UPDATE, { id: ben.id, i: { available: false, delegateId: cat.id } }, server.ownerToken)
    const read = `query($id: ID!) { node(id: $id) { ... on User { delegate { id } } } }`
    // the agent acts for its owner only: Ben's delegate is not its business
    const refused = await server.gql(read, { id: ben.id }, agent.token)
    // Ben is outside its directory: not even Ben is shown, let alone his delegate
    expect(refused).toEqual({ data: { node: null } })
    // a user sees it (the inbox names the delegate)
    expect((await server.gql(read, { id: ben.id }, ann.token)).data.node.delegate).toEqual({ id: cat.id })
    await server.gql(UPDATE, { id: ben.id, i: { available: true } }, server.ownerToken)
  })

  describe('long chains', () => {
    let chain: Principal[]
    beforeAll(async () => {
      chain = []
      for (let i = 0; i < 8; i++) chain.push(await createUserWithToken(server, { email: `chain${i}@example.com`, name: `Chain ${i}`, roleKeys: ['member'] }))
      await createRule(server, {
        name: 'to the head of the chain',
        resourceType: 'AGENT_ACTION',
        actionType: 'send_email',
        module: 'chain',
        primaryResolver: { type: 'NAMED_USER', userId: chain[0]!.id },
        fallbackResolver: { type: 'NAMED_USER', userId: dan.id },
      })
    })
    afterEach(async () => {
      for (const p of chain) expect((await away(p, true, null, null)).errors).toBeUndefined()
    })

    it('a delegation cycle of 8 is refused, as one of 2 is (setMyAvailability and updateUser)', async () => {
      // chain0 -> chain1 -> ... -> chain7, each naming the next while available
      for (let i = 0; i < 7; i++) expect((await away(chain[i]!, true, null, chain[i + 1]!.id)).errors).toBeUndefined()
      const closing = await away(chain[7]!, true, null, chain[0]!.id)
      expect(codes(closing)).toEqual(['BAD_USER_INPUT'])
      expect(closing.errors![0]!.message).toMatch(/cycle/)
      const byManager = await server.gql(UPDATE, { id: chain[7]!.id, i: { delegateId: chain[0]!.id } }, server.ownerToken)
      expect(byManager.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.delegateId' })
      const me = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { delegate { id } } } }`, { id: chain[7]!.id }, server.ownerToken)
      expect(me.data.node.delegate).toBeNull()
    })

    it('a request follows a chain of 7 away delegates to its end, however long', async () => {
      for (let i = 0; i < 7; i++) expect((await away(chain[i]!, false, null, chain[i + 1]!.id)).errors).toBeUndefined()
      const request = await read(await ask('chain'))
      expect(ids(request.reviewers)).toEqual([chain[7]!.id])
      expect(request.events.find((e: { type: string }) => e.type === 'DELEGATED').details).toEqual({ absent: chain[0]!.id, delegate: chain[7]!.id })
    })
  })
})

