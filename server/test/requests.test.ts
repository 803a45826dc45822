import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  getRequest,
  ManualClock,
  REQUEST_FIELDS,
  requestApproval,
  startServer,
  type TestServer,
} from './harness.js'

type Principal = { id: string; token: string }
let server: TestServer
const clock = new ManualClock()
let admin: Principal, bob: Principal, alice: Principal, carol: Principal, dave: Principal, erin: Principal
let mailer: Principal, checker: Principal, poster: Principal
let queries = 0

// The people: alice (member) reports to bob (manager); carol and erin are members; dave is a
// member who is unavailable; admin holds approval:manage (as does the bootstrap owner).
// The agents: mailer and poster belong to alice and act for her; mailer may also act for carol
// and erin; checker, admin's, is a reviewer agent and may act for erin. An agent's owner never
// reviews its requests (unless the rule allows self-approval).
beforeAll(async () => {
  server = await startServer({ clock, onQuery: () => void queries++ })
  admin = await createUserWithToken(server, { email: 'admin@example.com', name: 'Admin', roleKeys: ['admin'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['manager'] })
  alice = await createUserWithToken(server, { email: 'alice@example.com', name: 'Alice', roleKeys: ['member'], managerId: bob.id })
  carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  erin = await createUserWithToken(server, { email: 'erin@example.com', name: 'Erin', roleKeys: ['member'] })
  dave = await createUserWithToken(server, { email: 'dave@example.com', name: 'Dave', roleKeys: ['member'] })
  await server.gql(`mutation { setMyAvailability(available: false) { id } }`, {}, dave.token)
  mailer = await createAgentWithToken(server, { name: 'Mailer', ownerId: alice.id })
  poster = await createAgentWithToken(server, { name: 'Poster', ownerId: alice.id })
  checker = await createAgentWithToken(server, { name: 'Checker', ownerId: admin.id })
  await allowActingFor(mailer.id, [carol.id, erin.id])
  await allowActingFor(checker.id, [erin.id])
})
afterAll(() => server?.destroy())

/** Lets an agent act for these users (besides its owner), as a directory manager does. */
async function allowActingFor(agentId: string, userIds: string[]) {
  const res = await server.gql(
    `mutation($id: ID!, $input: UpdateAgentInput!) { updateAgent(id: $id, input: $input) { id } }`,
    { id: agentId, input: { actsForUserIds: userIds } },
    server.ownerToken,
  )
  expect(res.errors).toBeUndefined()
}

/** Valid params of each action type (its JSON Schema in the catalogue). */
const EMAIL = { to: 'x@corp.test', subject: 'Hi', body: 'Hello' }

/** Each test gates its own action in its own module, so that rules of other tests do not match. */
let moduleSeq = 0
const nextModule = () => `m${++moduleSeq}`
const ids = (list: { id: string }[]) => list.map((p) => p.id).sort()

async function gate(rule: Record<string, unknown>, request: Record<string, unknown> = {}, token = mailer.token) {
  const module = nextModule()
  const created = await createRule(server, { name: `rule ${module}`, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, ...rule })
  const res = await requestApproval(server, token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, ...request })
  expect(res.errors).toBeUndefined()
  return { rule: created, request: res.data.requestApproval.request, module }
}

describe('reviewer resolution', () => {
  it('NAMED_USER: the named user reviews', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    expect(request).toMatchObject({ status: 'PENDING', resolverType: 'NAMED_USER', escalated: false })
    expect(ids(request.reviewers)).toEqual([carol.id])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED'])
  })

  it('NAMED_USER unavailable: the fallback reviews, with an ESCALATED event', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: dave.id }, fallbackResolver: { type: 'NAMED_USER', userId: carol.id } })
    expect(request).toMatchObject({ escalated: true, resolverType: 'NAMED_USER' })
    expect(ids(request.reviewers)).toEqual([carol.id])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'ESCALATED'])
    expect(request.events[1].comment).toMatch(/unavailable/)
  })

  it('NAMED_USER unavailable and no fallback: the holders of approval:manage review', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: dave.id } })
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(request.escalated).toBe(true)
    expect(ids(request.reviewers)).toEqual([admin.id, owner].sort())
  })

  it("MANAGER: the manager of the person the agent acts for (its owner by default)", async () => {
    const { request } = await gate({ primaryResolver: { type: 'MANAGER' } })
    expect(request.onBehalfOf.id).toBe(alice.id)
    expect(ids(request.reviewers)).toEqual([bob.id])
  })

  it('MANAGER with no manager: the fallback', async () => {
    const { request } = await gate(
      { primaryResolver: { type: 'MANAGER' }, fallbackResolver: { type: 'ROLE', roleKey: 'admin' } },
      { onBehalfOfUserId: carol.id },
    )
    expect(request.onBehalfOf.id).toBe(carol.id)
    expect(request.escalated).toBe(true)
    expect(ids(request.reviewers)).toEqual([admin.id])
  })

  it('ROLE: every available holder of the role', async () => {
    const { request } = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'member' } }, { onBehalfOfUserId: erin.id }, checker.token)
    // alice, carol (members); not dave (unavailable), not erin (the person the action is for)
    expect(ids(request.reviewers)).toEqual([alice.id, carol.id].sort())
    // nor the requesting agent's owner: alice owns mailer
    const byMailer = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'member' } }, { onBehalfOfUserId: erin.id })
    expect(ids(byMailer.request.reviewers)).toEqual([carol.id])
  })

  it('ROLE with nobody available: the fallback', async () => {
    await server.gql(`mutation { setMyAvailability(available: false) { id } }`, {}, admin.token)
    try {
      const { request } = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'admin' }, fallbackResolver: { type: 'NAMED_USER', userId: carol.id } })
      expect(request.escalated).toBe(true)
      expect(ids(request.reviewers)).toEqual([carol.id])
    } finally {
      await server.gql(`mutation { setMyAvailability(available: true) { id } }`, {}, admin.token)
    }
  })

  it("RECORD_OWNER: the owner of the record named by module and recordId", async () => {
    const module = nextModule()
    const rec = await server.gql(`mutation($m: String!, $o: ID!) { createRecord(input: { module: $m, data: { name: "Acme" }, ownerId: $o }) { record { id } } }`, { m: module, o: carol.id }, server.ownerToken)
    const recordId = rec.data.createRecord.record.id
    await createRule(server, { name: 'owner', resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'RECORD_OWNER' } })
    const res = await requestApproval(server, mailer.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, recordId, params: EMAIL })
    expect(ids(res.data.requestApproval.request.reviewers)).toEqual([carol.id])
    expect(res.data.requestApproval.request.record.id).toBe(recordId)
  })

  it('RECORD_OWNER with no record: the fallback', async () => {
    const { request } = await gate({ primaryResolver: { type: 'RECORD_OWNER' }, fallbackResolver: { type: 'NAMED_USER', userId: erin.id } }, { recordId: 'crm-4711' })
    expect(request.recordId).toBe('crm-4711')
    expect(request.escalated).toBe(true)
    expect(ids(request.reviewers)).toEqual([erin.id])
  })

  it('AGENT: a reviewer agent decides through the same mutations with its own token', async () => {
    const { request } = await gate({ primaryResolver: { type: 'AGENT', agentId: checker.id } })
    expect(request.reviewers).toEqual([{ __typename: 'Agent', id: checker.id, name: 'Checker' }])
    const inbox = await server.gql(`{ approvalInbox { edges { node { id } } } }`, {}, checker.token)
    expect(inbox.data.approvalInbox.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(request.id)
    const approved = await decide(server, checker.token, request.id, 'approveRequest', 'Looks safe')
    expect(approved.data.approveRequest).toMatchObject({ status: 'APPROVED', decidedBy: { id: checker.id }, decisionComment: 'Looks safe' })
  })

  it('AGENT that is the requester itself: the fallback (an agent never decides its own request)', async () => {
    const { request } = await gate({ primaryResolver: { type: 'AGENT', agentId: mailer.id }, fallbackResolver: { type: 'NAMED_USER', userId: carol.id } })
    expect(request.escalated).toBe(true)
    expect(ids(request.reviewers)).toEqual([carol.id])
    expect(codes(await decide(server, mailer.token, request.id, 'approveRequest'))).toEqual(['FORBIDDEN'])
  })

  it('AUTO_APPROVE with no delay: approved at once, and requestApproval returns it approved', async () => {
    const { request } = await gate({ primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 0 } })
    expect(request).toMatchObject({ status: 'APPROVED', resolverType: 'AUTO_APPROVE', reviewers: [], decidedBy: null })
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'APPROVED'])
  })
})

describe('self-approval', () => {
  it('leaves out the person the agent acts for, unless the rule allows it', async () => {
    const refused = await gate({ primaryResolver: { type: 'NAMED_USER', userId: alice.id }, fallbackResolver: { type: 'NAMED_USER', userId: bob.id } })
    expect(ids(refused.request.reviewers)).toEqual([bob.id])
    expect(codes(await decide(server, alice.token, refused.request.id, 'approveRequest'))).toEqual(['FORBIDDEN'])

    const allowed = await gate({ primaryResolver: { type: 'NAMED_USER', userId: alice.id }, allowSelfApproval: true })
    expect(ids(allowed.request.reviewers)).toEqual([alice.id])
    expect((await decide(server, alice.token, allowed.request.id, 'approveRequest')).data.approveRequest.status).toBe('APPROVED')
  })

  it('a user asking for themselves is not among the reviewers', async () => {
    const { request } = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'member' } }, {}, carol.token)
    expect(request.requester).toEqual({ __typename: 'User', id: carol.id, name: 'Carol' })
    expect(request.onBehalfOf.id).toBe(carol.id)
    expect(ids(request.reviewers)).not.toContain(carol.id)
  })

  it('a user cannot request on behalf of someone else', async () => {
    const module = nextModule()
    const res = await requestApproval(server, carol.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, onBehalfOfUserId: alice.id })
    expect(codes(res)).toEqual(['FORBIDDEN'])
  })
})

describe('matching', () => {
  it('without a matching rule nothing is stored and the action may proceed', async () => {
    const before = await server.db.prisma.approvalRequest.count()
    const res = await requestApproval(server, mailer.token, { resourceType: 'AGENT_ACTION', actionType: 'browse_website', module: 'nothing-here', params: { url: 'https://example.com' } })
    expect(res.data.requestApproval).toEqual({ approvalRequired: false, request: null })
    expect(await server.db.prisma.approvalRequest.count()).toBe(before)
  })

  it('picks the highest priority; on a tie the rule with conditions, then the oldest; disabled rules never match', async () => {
    const module = nextModule()
    const base = { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, primaryResolver: { type: 'NAMED_USER', userId: carol.id } }
    await createRule(server, { ...base, name: 'old plain', priority: 1 })
    await createRule(server, { ...base, name: 'newer plain', priority: 1 })
    await createRule(server, { ...base, name: 'conditional', priority: 1, conditions: { '==': [{ var: 'params.network' }, 'x'] } })
    await createRule(server, { ...base, name: 'disabled top', priority: 99, enabled: false })
    await createRule(server, { ...base, name: 'generic', priority: 0, module: null })
    const match = (params: unknown) =>
      server.gql(`query($i: RequestApprovalInput!) { matchApprovalRule(input: $i) { name } }`, { i: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: 'hi', ...(params as object) } } }, admin.token)
    expect((await match({ network: 'x' })).data.matchApprovalRule.name).toBe('conditional')
    expect((await match({ network: 'y' })).data.matchApprovalRule.name).toBe('old plain')
    await createRule(server, { ...base, name: 'urgent', priority: 2, conditions: { '>': [{ var: 'params.followers' }, 1000] } })
    expect((await match({ network: 'x', followers: 5000 })).data.matchApprovalRule.name).toBe('urgent')
    // the dry run stored nothing
    expect(await server.db.prisma.approvalRequest.count({ where: { module } })).toBe(0)
  })

  it('conditions see the facts of the contract: requester, onBehalfOf, params, context', async () => {
    const module = nextModule()
    await createRule(server, {
      name: 'alice emails by mailer',
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      module,
      conditions: { and: [{ '==': [{ var: 'requester.name' }, 'Mailer'] }, { '==': [{ var: 'onBehalfOf.email' }, 'alice@example.com'] }, { in: ['member', { var: 'onBehalfOf.roleKeys' }] }, { '==': [{ var: 'context.campaign' }, 'spring'] }] },
      primaryResolver: { type: 'NAMED_USER', userId: carol.id },
    })
    const input = (context: unknown) => ({ resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: EMAIL, context })
    expect((await requestApproval(server, mailer.token, input({ campaign: 'spring' }))).data.requestApproval.approvalRequired).toBe(true)
    expect((await requestApproval(server, mailer.token, input({ campaign: 'autumn' }))).data.requestApproval.approvalRequired).toBe(false)
    expect((await requestApproval(server, poster.token, input({ campaign: 'spring' }))).data.requestApproval.approvalRequired).toBe(false)
  })

  it('refuses an unknown action type, and an unknown onBehalfOf user (FORBIDDEN: not one the agent may act for)', async () => {
    expect(codes(await requestApproval(server, mailer.token, { resourceType: 'AGENT_ACTION', actionType: 'fly', params: {} }))).toEqual(['BAD_USER_INPUT'])
    const res = await requestApproval(server, mailer.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL, onBehalfOfUserId: 'VXNlcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=' })
    expect(codes(res)).toEqual(['FORBIDDEN'])
  })
})

describe('idempotency', () => {
  it('returns the same request for a retry with the same key, and refuses the key with other input', async () => {
    const { module } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    const input = { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { ...EMAIL, to: 'a@b.c' }, idempotencyKey: 'send-42' }
    const first = await requestApproval(server, mailer.token, input)
    const again = await requestApproval(server, mailer.token, input)
    expect(again.data.requestApproval.request.id).toBe(first.data.requestApproval.request.id)
    const changed = await requestApproval(server, mailer.token, { ...input, params: { ...EMAIL, to: 'other@b.c' } })
    expect(codes(changed)).toEqual(['BAD_USER_INPUT'])
    // the key belongs to its requester: another agent may use it for its own request
    const other = await requestApproval(server, poster.token, input)
    expect(other.data.requestApproval.request.id).not.toBe(first.data.requestApproval.request.id)
  })

  it('creates one request for concurrent retries', async () => {
    const { module } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    const input = { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { ...EMAIL, to: 'a@b.c' }, idempotencyKey: 'burst' }
    const results = await Promise.all(Array.from({ length: 10 }, () => requestApproval(server, mailer.token, input)))
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([])
    expect(new Set(results.map((r) => r.data.requestApproval.request.id)).size).toBe(1)
    expect(await server.db.prisma.approvalRequest.count({ where: { idempotencyKey: 'burst' } })).toBe(1)
  })
})

describe('deciding', () => {
  it('approves with a comment, records who and when, and leaves the inbox', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    const res = await decide(server, carol.token, request.id, 'approveRequest', 'Fine by me')
    expect(res.data.approveRequest).toMatchObject({ status: 'APPROVED', decidedBy: { id: carol.id, name: 'Carol' }, decisionComment: 'Fine by me', reviewers: [] })
    expect(res.data.approveRequest.events.map((e: { type: string; actor: { id: string } | null }) => [e.type, e.actor?.id])).toEqual([
      ['REQUESTED', mailer.id],
      ['APPROVED', carol.id],
    ])
    const inbox = await server.gql(`{ approvalInbox(first: 100) { edges { node { id } } } }`, {}, carol.token)
    expect(inbox.data.approvalInbox.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(request.id)
    // deciding again is a conflict
    expect(codes(await decide(server, carol.token, request.id, 'rejectRequest'))).toEqual(['CONFLICT'])
  })

  it('of 20 concurrent approve and reject calls exactly one wins; the rest get CONFLICT', async () => {
    // checker (admin's) acts for erin: the members alice and carol review
    const { request } = await gate({ primaryResolver: { type: 'ROLE', roleKey: 'member' } }, { onBehalfOfUserId: erin.id }, checker.token)
    expect(ids(request.reviewers)).toEqual([alice.id, carol.id].sort())
    const calls = Array.from({ length: 20 }, (_, i) =>
      decide(server, i % 2 ? alice.token : carol.token, request.id, i % 3 ? 'approveRequest' : 'rejectRequest', `call ${i}`),
    )
    const results = await Promise.all(calls)
    const winners = results.filter((r) => !r.errors)
    expect(winners).toHaveLength(1)
    expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(19)
    const after = await getRequest(server, server.ownerToken, request.id)
    const decisions = after.data.approvalRequest.events.filter((e: { type: string }) => e.type === 'APPROVED' || e.type === 'REJECTED')
    expect(decisions).toHaveLength(1)
    expect(after.data.approvalRequest.decisionComment).toBe(decisions[0].comment)
  })

  it('refuses decisions from anyone who is not a current reviewer', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    // erin cannot see it at all; bob (approval:view) can see it but does not review it
    expect(codes(await decide(server, erin.token, request.id, 'approveRequest'))).toEqual(['NOT_FOUND'])
    expect(codes(await decide(server, bob.token, request.id, 'rejectRequest'))).toEqual(['FORBIDDEN'])
    expect(codes(await decide(server, admin.token, request.id, 'approveRequest'))).toEqual(['FORBIDDEN'])
    expect(codes(await decide(server, '', request.id, 'approveRequest'))).toEqual(['UNAUTHENTICATED'])
    expect((await getRequest(server, carol.token, request.id)).data.approvalRequest.status).toBe('PENDING')
  })

  it('cancels: the requester or an approval manager may withdraw a pending request', async () => {
    const CANCEL = `mutation($id: ID!, $r: String) { cancelApprovalRequest(id: $id, reason: $r) { status events { type comment actor { id } } } }`
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    expect(codes(await server.gql(CANCEL, { id: request.id }, carol.token))).toEqual(['FORBIDDEN'])
    const res = await server.gql(CANCEL, { id: request.id, r: 'No longer needed' }, mailer.token)
    expect(res.data.cancelApprovalRequest.status).toBe('CANCELLED')
    expect(res.data.cancelApprovalRequest.events.at(-1)).toEqual({ type: 'CANCELLED', comment: 'No longer needed', actor: { id: mailer.id } })
    expect(codes(await decide(server, carol.token, request.id, 'approveRequest'))).toEqual(['CONFLICT'])
    expect(codes(await server.gql(CANCEL, { id: request.id }, mailer.token))).toEqual(['CONFLICT'])
    const second = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    expect((await server.gql(CANCEL, { id: second.request.id }, admin.token)).data.cancelApprovalRequest.status).toBe('CANCELLED')
  })
})

describe('reading', () => {
  it('shows a request to its requester, the person it is for, its reviewers and approval:view holders; NOT_FOUND to anyone else', async () => {
    const { request } = await gate({ primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    const read = (token: string) => server.gql(`query($id: ID!) { approvalRequest(id: $id) { id status } }`, { id: request.id }, token)
    for (const who of [mailer, alice, carol, bob, admin]) {
      expect((await read(who.token)).data.approvalRequest.id).toBe(request.id)
    }
    for (const who of [erin, poster, checker]) expect(codes(await read(who.token))).toEqual(['NOT_FOUND'])
    // node(id:) follows the same rule
    const node = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: request.id }, erin.token)
    expect(node.data.node).toBeNull()
  })

  it('keeps past reviewers able to see an escalated request', async () => {
    const { request } = await gate({
      primaryResolver: { type: 'NAMED_USER', userId: erin.id },
      fallbackResolver: { type: 'NAMED_USER', userId: carol.id },
      escalateAfterSeconds: 60,
    })
    clock.advance(61)
    await server.app.scheduler.runOnce()
    const seen = await getRequest(server, erin.token, request.id)
    expect(seen.data.approvalRequest).toMatchObject({ escalated: true, reviewers: [{ id: carol.id }] })
  })

  it('pages through the inbox, oldest first', async () => {
    const module = nextModule()
    await createRule(server, { name: 'inbox', resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module, primaryResolver: { type: 'NAMED_USER', userId: erin.id } })
    const created: string[] = []
    for (let i = 0; i < 5; i++) {
      clock.advance(1)
      const res = await requestApproval(server, mailer.token, { resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module, params: { title: 'Page', i } })
      created.push(res.data.requestApproval.request.id)
    }
    const page = (after?: string) =>
      server.gql(`query($after: String) { approvalInbox(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, { after }, erin.token)
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const res = (await page(after)).data.approvalInbox
      seen.push(...res.edges.map((e: { node: { id: string } }) => e.node.id))
      if (!res.pageInfo.hasNextPage) break
      after = res.pageInfo.endCursor
    }
    expect(seen.filter((id) => created.includes(id))).toEqual(created)
  })

  it('lists history newest first with filters, for approval:view only', async () => {
    const module = nextModule()
    const rule = await createRule(server, { name: 'history', resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module, primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
    const made: string[] = []
    for (let i = 0; i < 3; i++) {
      clock.advance(1)
      made.push((await requestApproval(server, poster.token, { resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', module, params: { title: 'Page', i } })).data.requestApproval.request.id)
    }
    await decide(server, carol.token, made[1]!, 'approveRequest')
    const HISTORY = `query($f: ApprovalHistoryFilter, $first: Int) { approvalHistory(filter: $f, first: $first) { edges { node { id status } } } }`
    const byRule = await server.gql(HISTORY, { f: { ruleId: rule.id } }, bob.token)
    expect(byRule.data.approvalHistory.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([...made].reverse())
    const approved = await server.gql(HISTORY, { f: { ruleId: rule.id, status: ['APPROVED'], decidedById: carol.id, requesterId: poster.id, actionType: 'create_landing_page' } }, bob.token)
    expect(approved.data.approvalHistory.edges).toEqual([{ node: { id: made[1], status: 'APPROVED' } }])
    const none = await server.gql(HISTORY, { f: { ruleId: rule.id, createdAfter: clock.now().toISOString() } }, bob.token)
    expect(none.data.approvalHistory.edges).toEqual([])
    expect(codes(await server.gql(HISTORY, {}, carol.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(`{ approvalInbox { edges { cursor } } }`))).toEqual(['UNAUTHENTICATED'])
  })

  it('lists 50 requests with requester, reviewers and rule in a bounded number of queries', async () => {
    const module = nextModule()
    await createRule(server, { name: 'bulk', resourceType: 'AGENT_ACTION', actionType: 'browse_website', module, primaryResolver: { type: 'ROLE', roleKey: 'member' } })
    for (let i = 0; i < 50; i++) {
      await requestApproval(server, i % 2 ? mailer.token : poster.token, { resourceType: 'AGENT_ACTION', actionType: 'browse_website', module, params: { url: 'https://example.com', i } })
    }
    // every relation a request has, without its JSON fields (params, context, the record's data):
    // with them, 50 requests would cost more than one operation may ask for
    const fields = REQUEST_FIELDS.replace(' params ', ' ').replace(' context ', ' ').replace('record { id data ', 'record { id ')
    expect(fields).not.toMatch(/\b(params|context|data)\b/)
    const list = (first: number) => `{ approvalHistory(first: ${first}, filter: { actionType: "browse_website" }) { edges { node { ${fields} } } } }`
    const count = async (first: number) => {
      queries = 0
      const res = await server.gql(list(first), {}, server.ownerToken)
      expect(res.errors).toBeUndefined()
      expect(res.data.approvalHistory.edges).toHaveLength(first)
      return queries
    }
    const forFive = await count(5)
    const forFifty = await count(50)
    // one query per relation, not per request: ten times the rows, the same number of queries
    expect(forFifty).toBe(forFive)
    expect(forFifty).toBeLessThanOrEqual(24)
  })
})
