// Attacks by the gated agent on its own approval: choosing who it acts for (and so who reviews
// it), slipping params past a rule's conditions, and reading the rules it must get past.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { APPROVAL_REQUEST, CLAIM_EXECUTION, REQUEST_APPROVAL } from '../../sdk/src/operations.js'
import { codes, createAgentWithToken, createRule, createUserWithToken, getRequest, ManualClock, requestApproval, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let server: TestServer
let admin: Principal, alice: Principal, bob: Principal, mallory: Principal, carol: Principal, vip: Principal
let agent: Principal, helper: Principal
const requests = () => server.db.prisma.approvalRequest.count()

// alice owns both agents and reports to bob; mallory is a manager who would wave anything
// through, and manages carol; vip is a manager (a role key conditions can test). The helper
// agent may also act for carol.
beforeAll(async () => {
  server = await startServer({ clock })
  admin = await createUserWithToken(server, { email: 'admin@example.com', name: 'Admin', roleKeys: ['admin'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['manager'] })
  mallory = await createUserWithToken(server, { email: 'mallory@example.com', name: 'Mallory', roleKeys: ['manager'] })
  alice = await createUserWithToken(server, { email: 'alice@example.com', name: 'Alice', roleKeys: ['member'], managerId: bob.id })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'], managerId: mallory.id })
  vip = await createUserWithToken(server, { email: 'vip@example.com', name: 'Vip', roleKeys: ['manager'], managerId: bob.id })
  agent = await createAgentWithToken(server, { name: 'Mailer', ownerId: alice.id })
  helper = await createAgentWithToken(server, { name: 'Helper', ownerId: alice.id })
  // helper may also act for carol
  const allowed = await server.gql(
    `mutation($id: ID!, $input: UpdateAgentInput!) { updateAgent(id: $id, input: $input) { actsFor { id } } }`,
    { id: helper.id, input: { actsForUserIds: [carol.id] } },
    server.ownerToken,
  )
  expect(allowed.data.updateAgent.actsFor).toEqual([{ id: carol.id }])
})
afterAll(() => server?.destroy())

let moduleSeq = 0
const EMAIL = { to: 'x@corp.test', subject: 'Hi', body: 'Hello' }
async function rule(input: Record<string, unknown>) {
  const module = `r${++moduleSeq}`
  await createRule(server, { name: `rule ${module}`, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, ...input })
  return module
}

describe('the agent cannot choose who it acts for', () => {
  it('naming another user to get a colluding manager as reviewer is FORBIDDEN and stores nothing', async () => {
    const module = await rule({ primaryResolver: { type: 'MANAGER' } })
    const before = await requests()
    const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: carol.id })
    expect(codes(res)).toEqual(['FORBIDDEN'])
    expect(await requests()).toBe(before)
    // acting for its owner, the owner's manager reviews
    const own = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL })
    expect(own.data.requestApproval.request.reviewers.map((r: { id: string }) => r.id)).toEqual([bob.id])
  })

  it('naming a user to dodge a condition on onBehalfOf.roleKeys is FORBIDDEN', async () => {
    // members' emails need approval; the agent would claim to act for a manager
    const module = await rule({ conditions: { in: ['member', { var: 'onBehalfOf.roleKeys' }] }, primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const dodge = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: vip.id })
    expect(codes(dodge)).toEqual(['FORBIDDEN'])
    const honest = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL })
    expect(honest.data.requestApproval.approvalRequired).toBe(true)
  })

  it('a user an agent was allowed to act for can be named, and then their manager reviews', async () => {
    const module = await rule({ primaryResolver: { type: 'MANAGER' } })
    const res = await requestApproval(server, helper.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: carol.id })
    expect(res.errors).toBeUndefined()
    expect(res.data.requestApproval.request.onBehalfOf.id).toBe(carol.id)
    expect(res.data.requestApproval.request.reviewers.map((r: { id: string }) => r.id)).toEqual([mallory.id])
    // a user it was not allowed to act for stays refused
    expect(codes(await requestApproval(server, helper.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: vip.id }))).toEqual(['FORBIDDEN'])
  })

  it("naming someone else does not make the agent's own owner its reviewer (self-approval)", async () => {
    // alice (the agent's owner) is the named reviewer; the agent acts for carol, whom it may act for
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: alice.id }, fallbackResolver: { type: 'NAMED_USER', userId: bob.id } })
    const res = await requestApproval(server, helper.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: carol.id })
    const request = res.data.requestApproval.request
    expect(request.reviewers.map((r: { id: string }) => r.id)).toEqual([bob.id])
    expect(request.escalated).toBe(true)
    // unless the rule allows self-approval
    const allowing = await rule({ primaryResolver: { type: 'NAMED_USER', userId: alice.id }, allowSelfApproval: true })
    const mine = await requestApproval(server, helper.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module: allowing, params: EMAIL, onBehalfOfUserId: carol.id })
    expect(mine.data.requestApproval.request.reviewers.map((r: { id: string }) => r.id)).toEqual([alice.id])
  })

  it("the agent's owner is not a reviewer of last resort for its agent's requests", async () => {
    const owned = await createAgentWithToken(server, { name: 'Admin bot', ownerId: admin.id })
    const olivia = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    // the named reviewer is the agent's owner: it falls through to the approval managers, but not to the owner either
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: admin.id } })
    const res = await requestApproval(server, owned.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL })
    expect(res.data.requestApproval.request.reviewers.map((r: { id: string }) => r.id)).toEqual([olivia])
  })
})

describe('params cannot slip past conditions', () => {
  it('a URL sent as a list, an object or a number is refused with the JSON pointer, and nothing is stored', async () => {
    await createRule(server, {
      name: 'evil',
      resourceType: 'AGENT_ACTION',
      actionType: 'browse_website',
      conditions: { in: ['evil.com', { var: 'params.url' }] },
      primaryResolver: { type: 'NAMED_USER', userId: bob.id },
    })
    const before = await requests()
    for (const url of [['https://evil.com/x'], { href: 'https://evil.com/x' }, 12345, 'javascript:alert(1)']) {
      const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'browse_website', params: { url } })
      expect(codes(res)).toEqual(['BAD_USER_INPUT'])
      expect(res.errors![0]!.extensions).toMatchObject({ field: 'input.params', pointer: '/url' })
    }
    expect(await requests()).toBe(before)
    const gated = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'browse_website', params: { url: 'https://evil.com/x' } })
    expect(gated.data.requestApproval.approvalRequired).toBe(true)
  })

  it('each action type requires its fields with their types, and allows others', async () => {
    const bad: [string, unknown, string][] = [
      ['send_email', { to: 'not an address', subject: 's', body: 'b' }, '/to'],
      ['send_email', { to: ['a@x.test', 5], subject: 's', body: 'b' }, '/to'],
      ['send_email', { to: 'a@x.test', body: 'b' }, '/subject'],
      ['send_email', { to: 'a@x.test', subject: 's', body: 'b', attachments: [{ name: 'a.pdf', size: -1 }] }, '/attachments/0/size'],
      ['post_to_social', { text: 5 }, '/text'],
      ['post_to_social', { text: 'hi', scheduledAt: 'tomorrow' }, '/scheduledAt'],
      ['create_landing_page', {}, '/title'],
      ['browse_website', { url: 'https://x.test', mayPay: 'yes' }, '/mayPay'],
    ]
    for (const [actionType, params, pointer] of bad) {
      const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType, params })
      expect(res.errors?.[0]?.extensions, `${actionType} ${JSON.stringify(params)}`).toMatchObject({ code: 'BAD_USER_INPUT', pointer })
    }
    const fine = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: { ...EMAIL, to: ['a@x.test', 'b@x.test'], trackOpens: true } })
    expect(fine.errors).toBeUndefined()
  })

  it('recipients and URLs cannot dodge a condition by their form: list or string, upper or lower case', async () => {
    const module = `form${++moduleSeq}`
    await createRule(server, { name: 'rival', resourceType: 'AGENT_ACTION', actionType: 'send_email', module, conditions: { in: ['ceo@rival.com', { var: 'params.to' }] }, primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    for (const to of ['ceo@rival.com', 'CEO@Rival.com', ['ceo@rival.com'], ['a@x.test', 'Ceo@RIVAL.com']]) {
      const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { ...EMAIL, to } })
      expect(res.data.requestApproval.approvalRequired, JSON.stringify(to)).toBe(true)
    }
    const other = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { ...EMAIL, to: ['a@x.test'] } })
    expect(other.data.requestApproval.approvalRequired).toBe(false)
    const hostModule = `form${++moduleSeq}`
    await createRule(server, { name: 'host', resourceType: 'AGENT_ACTION', actionType: 'browse_website', module: hostModule, conditions: { in: ['://evil.com/', { var: 'params.url' }] }, primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const upper = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'browse_website', module: hostModule, params: { url: 'HTTPS://EVIL.COM/x' } })
    expect(upper.data.requestApproval.approvalRequired).toBe(true)
  })

  it('a create_record request cannot name an existing record (whose owner would review it)', async () => {
    const rec = await server.gql(`mutation { createRecord(input: { module: "deals", data: { n: 1 } }) { record { id } } }`, {}, mallory.token)
    const res = await requestApproval(server, agent.token, { resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', recordId: rec.data.createRecord.record.id, params: { module: 'deals', data: {} } })
    expect(codes(res)).toEqual(['BAD_USER_INPUT'])
  })

  it('record mutation params are checked too', async () => {
    await createRule(server, { name: 'records', resourceType: 'RECORD_MUTATION', actionType: 'create_record', primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const before = await requests()
    for (const params of [{ module: 'deals' }, { module: 'deals', data: 'x' }, { data: {} }, { module: 'deals', data: {}, ownerId: 42 }]) {
      const res = await requestApproval(server, agent.token, { resourceType: 'RECORD_MUTATION', actionType: 'create_record', module: 'deals', params })
      expect(codes(res), JSON.stringify(params)).toEqual(['BAD_USER_INPUT'])
    }
    const viaMutation = await server.gql(`mutation { createRecord(input: { module: "deals", data: "not an object" }) { record { id } } }`, {}, agent.token)
    expect(codes(viaMutation)).toEqual(['BAD_USER_INPUT'])
    expect(await requests()).toBe(before)
  })

  it('a condition that cannot be evaluated gates the action (fail closed) and records why, for reviewers only', async () => {
    // json-logic's "in" calls b.indexOf: the agent controls params.tags
    const module = `fc${++moduleSeq}`
    await createRule(server, {
      name: 'vip tags',
      resourceType: 'AGENT_ACTION',
      actionType: 'post_to_social',
      module,
      conditions: { in: ['vip', { var: 'params.tags' }] },
      primaryResolver: { type: 'NAMED_USER', userId: bob.id },
    })
    const ok = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: 'hi', tags: ['news'] } })
    expect(ok.data.requestApproval.approvalRequired).toBe(false)
    const res = await requestApproval(server, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: 'hi', tags: { indexOf: 1 } } })
    expect(res.data.requestApproval.approvalRequired).toBe(true)
    const id = res.data.requestApproval.request.id
    const asReviewer = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { conditionError } }`, { id }, bob.token)
    expect(asReviewer.data.approvalRequest.conditionError).toMatch(/could not be evaluated/)
    const asAgent = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { conditionError } }`, { id }, agent.token)
    expect(asAgent.data.approvalRequest.conditionError).toBeNull()
  })
})

describe('the agent cannot read the rules it must get past', () => {
  it("matchApprovalRule is refused to the requester, and ApprovalRequest.rule shows it only the rule's id, name and description", async () => {
    const module = await rule({ conditions: { '==': [{ var: 'params.subject' }, 'Hi'] }, primaryResolver: { type: 'NAMED_USER', userId: bob.id }, expiresAfterSeconds: 600 })
    const input = { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL }
    // the dry run is for those who manage or view approvals: an agent cannot probe the rules silently
    for (const token of [agent.token, alice.token]) {
      const probe = await server.gql(`query($i: RequestApprovalInput!) { matchApprovalRule(input: $i) { id name } }`, { i: input }, token)
      expect(codes(probe)).toEqual(['FORBIDDEN'])
      expect(JSON.stringify(probe.data)).not.toMatch(/rule r/)
    }
    const managed = await server.gql(`query($i: RequestApprovalInput!) { matchApprovalRule(input: $i) { name conditions } }`, { i: input }, admin.token)
    expect(managed.data.matchApprovalRule).toEqual({ name: `rule ${module}`, conditions: { '==': [{ var: 'params.subject' }, 'Hi'] } })
    const created = await server.gql(`mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`, { i: input }, agent.token)
    const id = created.data.requestApproval.request.id
    const RULE = `query($id: ID!) { approvalRequest(id: $id) { rule { name conditions primaryResolver { type } } } }`
    // neither the requesting agent nor the person it acts for sees more than the name
    for (const token of [agent.token, alice.token]) {
      const res = await server.gql(RULE, { id }, token)
      expect(codes(res)).toContain('FORBIDDEN')
      expect(JSON.stringify(res.data)).not.toMatch(/params\.subject|NAMED_USER/)
      const named = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { rule { id name description } } }`, { id }, token)
      expect(named.data.approvalRequest.rule.name).toBe(`rule ${module}`)
    }
    // the reviewer and an approval manager see why it is gated
    for (const token of [bob.token, admin.token]) {
      const res = await server.gql(RULE, { id }, token)
      expect(res.errors).toBeUndefined()
      expect(res.data.approvalRequest.rule.conditions).toEqual({ '==': [{ var: 'params.subject' }, 'Hi'] })
    }
    const asManager = await getRequest(server, admin.token, id)
    expect(asManager.errors).toBeUndefined()
  })
})

// The agent's owner colludes: it would approve what its agent asks, if only a request reached it.
// Every path that adds a reviewer goes through the same exclusions (reviewers.ts, admitReviewers):
// the requester, the person it acts for and the agent's owner never review it unless the rule
// allows self-approval, whoever or whatever brings the request to them.
describe("no path hands a request to the requester's people", () => {
  // helper (alice's agent) acts for carol: alice is neither the requester nor the person it is for,
  // only the agent's owner, the one exclusion a path could forget
  const AWAY = `mutation($a: Boolean!, $d: ID) { setMyAvailability(available: $a, delegateId: $d) { available } }`
  const UPDATE = `mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { available } }`
  const READ = `query($id: ID!) { approvalRequest(id: $id) { status stage reviewers { id } events { type comment } } }`
  const read = async (id: string) => (await server.gql(READ, { id }, server.ownerToken)).data.approvalRequest
  const reviewerIds = async (id: string) => ((await read(id)).reviewers as { id: string }[]).map((r) => r.id).sort()
  const ask = async (module: string, token = helper.token) => {
    const res = await server.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
      { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: carol.id } },
      token,
    )
    expect(res.errors).toBeUndefined()
    return res.data.requestApproval.request.id as string
  }
  const approveAs = (p: Principal, id: string) => server.gql(`mutation($id: ID!) { approveRequest(id: $id) { status } }`, { id }, p.token)
  /** The owner cannot approve it: not one of its reviewers (FORBIDDEN), or never one, so not even shown it (NOT_FOUND). */
  const ownerRefused = async (id: string) => {
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(codes(await approveAs(alice, id))[0])
    expect((await read(id)).status).toBe('PENDING')
  }
  // whoever went away in a test is back for the next
  afterEach(async () => {
    for (const p of [bob, vip]) expect((await server.gql(AWAY, { a: true, d: null }, p.token)).errors).toBeUndefined()
  })

  it("a reviewer going away with the agent's owner as delegate (setMyAvailability) does not hand the owner the request", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const id = await ask(module)
    expect(await reviewerIds(id)).toEqual([bob.id])
    expect((await server.gql(AWAY, { a: false, d: alice.id }, bob.token)).errors).toBeUndefined()
    // nobody who may review it is left to take it: it stays with bob, as without a delegate
    expect(await reviewerIds(id)).toEqual([bob.id])
    expect((await read(id)).events.map((e: { type: string }) => e.type)).not.toContain('DELEGATED')
    await ownerRefused(id)
  })

  it("a directory manager sending a reviewer away with the agent's owner as delegate (updateUser) does not either", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const id = await ask(module)
    const res = await server.gql(UPDATE, { id: bob.id, i: { available: false, delegateId: alice.id } }, admin.token)
    expect(res.errors).toBeUndefined()
    expect(await reviewerIds(id)).toEqual([bob.id])
    await ownerRefused(id)
  })

  it("a chain of delegates ending with the agent's owner does not hand it the request", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id } })
    const id = await ask(module)
    // vip is away with alice as delegate; bob goes away with vip as delegate: the chain ends with alice
    expect((await server.gql(AWAY, { a: false, d: alice.id }, vip.token)).errors).toBeUndefined()
    expect((await server.gql(AWAY, { a: false, d: vip.id }, bob.token)).errors).toBeUndefined()
    expect(await reviewerIds(id)).toEqual([bob.id])
    await ownerRefused(id)
    // and a new request while they are away does not reach her either: the fallback takes it
    const later = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id }, fallbackResolver: { type: 'NAMED_USER', userId: mallory.id } })
    expect(await reviewerIds(await ask(later))).toEqual([mallory.id])
  })

  it("a reviewer handing the request on (escalateRequest) to a fallback that is the agent's owner: the approval managers get it", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id }, fallbackResolver: { type: 'NAMED_USER', userId: alice.id } })
    const id = await ask(module)
    const res = await server.gql(`mutation($id: ID!) { escalateRequest(id: $id, reason: "not mine") { status } }`, { id }, bob.token)
    expect(res.errors).toBeUndefined()
    expect(await reviewerIds(id)).not.toContain(alice.id)
    await ownerRefused(id)
  })

  it("the scheduler escalating to a fallback that is the agent's owner: the approval managers get it", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id }, escalateAfterSeconds: 60, fallbackResolver: { type: 'NAMED_USER', userId: alice.id } })
    const id = await ask(module)
    clock.advance(61)
    await server.app.scheduler.runOnce()
    expect((await read(id)).events.map((e: { type: string }) => e.type)).toContain('ESCALATED')
    const now = await reviewerIds(id)
    expect(now).not.toContain(alice.id)
    expect(now).not.toEqual([])
    await ownerRefused(id)
  })

  it("a next stage whose reviewer is the agent's owner: its fallback takes it", async () => {
    const module = await rule({
      primaryResolver: { type: 'NAMED_USER', userId: bob.id },
      nextStages: [{ primaryResolver: { type: 'NAMED_USER', userId: alice.id }, fallbackResolver: { type: 'NAMED_USER', userId: mallory.id } }],
    })
    const id = await ask(module)
    expect((await approveAs(bob, id)).errors).toBeUndefined()
    expect(await read(id)).toMatchObject({ status: 'PENDING', stage: 2 })
    expect(await reviewerIds(id)).toEqual([mallory.id])
    await ownerRefused(id)
  })

  it("a reviewer away with the agent's owner as delegate when the request is made: the fallback takes it", async () => {
    const module = await rule({ primaryResolver: { type: 'NAMED_USER', userId: bob.id }, fallbackResolver: { type: 'NAMED_USER', userId: mallory.id } })
    expect((await server.gql(AWAY, { a: false, d: alice.id }, bob.token)).errors).toBeUndefined()
    expect(await reviewerIds(await ask(module))).toEqual([mallory.id])
  })

  it("a reviewer agent with the same owner as the requesting agent does not review its requests", async () => {
    const checker = await createAgentWithToken(server, { name: "Alice's checker", ownerId: alice.id })
    const module = await rule({ primaryResolver: { type: 'AGENT', agentId: checker.id }, fallbackResolver: { type: 'NAMED_USER', userId: bob.id } })
    const id = await ask(module)
    expect(await reviewerIds(id)).toEqual([bob.id])
    expect((await read(id)).events.find((e: { type: string }) => e.type === 'ESCALATED').comment).toMatch(/AGENT: .*owner/)
    expect(codes(await approveAs(checker, id))).toEqual(['NOT_FOUND'])
    // nor one owned by the person the action is for
    const carols = await createAgentWithToken(server, { name: "Carol's checker", ownerId: carol.id })
    const forCarol = await rule({ primaryResolver: { type: 'AGENT', agentId: carols.id }, fallbackResolver: { type: 'NAMED_USER', userId: bob.id } })
    expect(await reviewerIds(await ask(forCarol))).toEqual([bob.id])
    // unless the rule allows self-approval; another owner's reviewer agent reviews as before
    const allowing = await rule({ primaryResolver: { type: 'AGENT', agentId: checker.id }, allowSelfApproval: true })
    expect(await reviewerIds(await ask(allowing))).toEqual([checker.id])
    const bobs = await createAgentWithToken(server, { name: "Bob's checker", ownerId: bob.id })
    const other = await rule({ primaryResolver: { type: 'AGENT', agentId: bobs.id } })
    expect(await reviewerIds(await ask(other))).toEqual([bobs.id])
  })
})

// What the requester is told of its request: its status, the decision and its comment, and the
// rule's id, name and description. How it is reviewed (who, which resolver, how many approvals,
// why it was escalated, who is away) would tell a hostile agent whom to work on, or when.
describe('the requester does not learn how its request is reviewed', () => {
  let id: string
  const one = (field: string, token: string) => server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${field} } }`, { id }, token)
  beforeAll(async () => {
    // nobody holds "legal": the request escalates to bob with a reason naming the role; a second
    // stage of two approvals follows
    await server.db.prisma.role.create({ data: { key: 'legal', name: 'Legal', permissions: ['approval:resolve'] } })
    const module = await rule({
      primaryResolver: { type: 'ROLE', roleKey: 'legal' },
      fallbackResolver: { type: 'NAMED_USER', userId: bob.id },
      nextStages: [{ primaryResolver: { type: 'NAMED_USER', userId: mallory.id }, fallbackResolver: { type: 'NAMED_USER', userId: vip.id }, requiredApprovals: 2 }],
    })
    const res = await server.gql(REQUEST_APPROVAL, { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, idempotencyKey: 'review-1' } }, agent.token)
    expect(res.errors).toBeUndefined()
    id = res.data.requestApproval.request.id
    // bob approves stage 1 with an edit; stage 2 waits for its two approvals
    const edited = await server.gql(`mutation($id: ID!, $p: JSON) { approveRequest(id: $id, params: $p) { stage } }`, { id, p: { ...EMAIL, body: 'Hello!' } }, bob.token)
    expect(edited.data.approveRequest.stage).toBe(2)
  })

  it('the requesting agent and the person it acts for get FORBIDDEN for resolverType, escalated, stages, quorum, reviewers and votes', async () => {
    for (const token of [agent.token, alice.token]) {
      for (const field of ['resolverType', 'escalated', 'stage', 'stageCount', 'requiredApprovals', 'reviewers { id }', 'votes { stage }', 'reviewers { ... on User { available awayUntil } }']) {
        const res = await one(field, token)
        expect(codes(res), field).toEqual(['FORBIDDEN'])
        expect(res.data.approvalRequest, field).toBeNull()
      }
    }
    // a reviewer (past or present) and an approval viewer see them
    for (const token of [bob.token, mallory.token, admin.token]) {
      const res = await one('resolverType escalated stage stageCount requiredApprovals reviewers { id } votes { stage }', token)
      expect(res.errors, token).toBeUndefined()
      expect(res.data.approvalRequest).toMatchObject({ resolverType: 'NAMED_USER', escalated: true, stage: 2, stageCount: 2, requiredApprovals: 2, votes: [{ stage: 1 }] })
    }
  })

  it('its events are the status and the decisions: no escalation naming a role, no votes, edits or stages', async () => {
    for (const token of [agent.token, alice.token]) {
      const res = await one('events { type comment details }', token)
      expect(res.errors).toBeUndefined()
      expect(res.data.approvalRequest.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED'])
      expect(JSON.stringify(res.data)).not.toMatch(/legal|ESCALATED|stage/i)
    }
    const reviewer = await one('events { type comment }', bob.token)
    expect(reviewer.data.approvalRequest.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'ESCALATED', 'EDITED', 'ADVANCED', 'ESCALATED'])
    expect(reviewer.data.approvalRequest.events[1].comment).toMatch(/legal/)
  })

  it("an edit under review is not the requester's to read until the request is approved; the decision is", async () => {
    const pending = await one('status edited approvedParams conditionError rule { id name description }', agent.token)
    expect(pending.errors).toBeUndefined()
    expect(pending.data.approvalRequest).toEqual({ status: 'PENDING', edited: false, approvedParams: null, conditionError: null, rule: expect.objectContaining({ name: expect.stringMatching(/^rule r/) }) })
    for (const p of [mallory, vip]) expect((await server.gql(`mutation($id: ID!) { approveRequest(id: $id, comment: "ok") { status } }`, { id }, p.token)).errors).toBeUndefined()
    const decided = await one('status edited approvedParams decisionComment decidedBy { id name }', agent.token)
    expect(decided.errors).toBeUndefined()
    expect(decided.data.approvalRequest).toEqual({ status: 'APPROVED', edited: true, approvedParams: { ...EMAIL, body: 'Hello!' }, decisionComment: 'ok', decidedBy: { id: expect.any(String), name: expect.any(String) } })
    // who decided is named; whether they are away is not the agent's business
    expect(codes(await one('decidedBy { ... on User { available } }', agent.token))).toEqual(['FORBIDDEN'])
    const events = await one('events { type comment }', agent.token)
    expect(events.data.approvalRequest.events).toEqual([{ type: 'REQUESTED', comment: null }, { type: 'APPROVED', comment: 'ok' }])
  })

  it("the SDK's own operations still work for the agent: asking, reading the decision, claiming the approved action", async () => {
    // the same idempotency key: the request as asked, now approved
    const again = await server.gql(REQUEST_APPROVAL, { input: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module: `r${moduleSeq}`, params: EMAIL, idempotencyKey: 'review-1' } }, agent.token)
    expect(again.errors).toBeUndefined()
    expect(again.data.requestApproval.request).toMatchObject({ id, status: 'APPROVED', decisionComment: 'ok', execution: { status: 'READY' } })
    const read = await server.gql(APPROVAL_REQUEST, { id }, agent.token)
    expect(read.errors).toBeUndefined()
    expect(read.data.approvalRequest).toMatchObject({ status: 'APPROVED', events: [{ type: 'REQUESTED' }, { type: 'APPROVED' }] })
    const claimed = await server.gql(CLAIM_EXECUTION, { requestId: id, leaseSeconds: 60 }, agent.token)
    expect(claimed.errors).toBeUndefined()
    expect(claimed.data.claimExecution.request).toMatchObject({ id, edited: true, execution: { params: { ...EMAIL, body: 'Hello!' } } })
  })
})
