// Stages and quorum: a rule's first stage (its resolvers, with requiredApprovals) and its
// nextStages, decided in order. An approval short of a stage's quorum is a vote (VOTED); the
// stage's last needed approval moves the request on (ADVANCED) or approves it. Any rejection
// rejects it; nobody approves one request twice, in any stage; concurrent votes count once each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  ManualClock,
  startServer,
  type Collected,
  type TestServer,
} from './harness.js'

type Principal = { id: string; token: string }

const clock = new ManualClock()
let server: TestServer
let agent: Principal
let members: Principal[]
let lena: Principal
let olga: Principal
const open: Collected[] = []

beforeAll(async () => {
  server = await startServer({ clock })
  agent = await createAgentWithToken(server, { name: 'Deal desk' })
  members = []
  for (let i = 0; i < 5; i++) members.push(await createUserWithToken(server, { email: `m${i}@example.com`, name: `Member ${i}`, roleKeys: ['member'] }))
  // legal: a manager (approval:resolve) who holds no member role
  lena = await createUserWithToken(server, { email: 'lena@example.com', name: 'Lena', roleKeys: ['manager'] })
  olga = await createUserWithToken(server, { email: 'olga@example.com', name: 'Olga', roleKeys: ['manager'] })
  const legal = { name: 'Legal', primaryResolver: { type: 'NAMED_USER', userId: lena.id }, escalateAfterSeconds: 60, fallbackResolver: { type: 'NAMED_USER', userId: olga.id } }
  const rule = (module: string, extra: Record<string, unknown>) =>
    createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'ROLE', roleKey: 'member' }, ...extra })
  await rule('three-then-legal', { requiredApprovals: 3, nextStages: [legal] })
  await rule('two-then-members', { requiredApprovals: 2, nextStages: [{ primaryResolver: { type: 'ROLE', roleKey: 'member' } }] })
  await rule('short', { requiredApprovals: 3, primaryResolver: { type: 'NAMED_USER', userId: members[0]!.id }, fallbackResolver: { type: 'NAMED_USER', userId: lena.id } })
})
afterAll(async () => {
  for (const s of open) s.dispose()
  await server?.destroy()
})

const email = { to: 'ceo@client.example', subject: 'Contract', body: 'Signed at 90k.' }
async function ask(module: string, token = agent.token): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: email } },
    token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval.request.id
}
const APPROVE = `mutation($id: ID!, $c: String, $p: JSON) { approveRequest(id: $id, comment: $c, params: $p) { status stage requiredApprovals } }`
const REJECT = `mutation($id: ID!, $c: String) { rejectRequest(id: $id, comment: $c) { status } }`
const READ = `query($id: ID!) { approvalRequest(id: $id) {
  status stage stageCount requiredApprovals edited params approvedParams escalated
  reviewers { id } votes { stage comment reviewer { id } }
  decidedBy { id } events { type comment details actor { id } } execution { params }
} }`
const read = async (id: string) => (await server.gql(READ, { id }, server.ownerToken)).data.approvalRequest
const ids = (list: { id: string }[]) => list.map((p) => p.id).sort()
const approve = (p: Principal, id: string, comment?: string, params?: unknown) => server.gql(APPROVE, { id, c: comment, p: params }, p.token)

describe('stages and quorum', () => {
  it('a rule shows its stages; bad ones are refused with the field named', async () => {
    const rules = await server.gql(`{ approvalRules { name requiredApprovals nextStages { name requiredApprovals escalateAfterSeconds primaryResolver { type user { id } } fallbackResolver { type } } } }`, {}, server.ownerToken)
    expect(rules.data.approvalRules.find((r: { name: string }) => r.name === 'three-then-legal')).toEqual({
      name: 'three-then-legal',
      requiredApprovals: 3,
      nextStages: [{ name: 'Legal', requiredApprovals: 1, escalateAfterSeconds: 60, primaryResolver: { type: 'NAMED_USER', user: { id: lena.id } }, fallbackResolver: { type: 'NAMED_USER' } }],
    })
    const base = { name: 'bad', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'ROLE', roleKey: 'member' } }
    const create = (input: Record<string, unknown>, token = server.ownerToken) =>
      server.gql(`mutation($i: ApprovalRuleInput!) { createApprovalRule(input: $i) { id } }`, { i: { ...base, ...input } }, token)
    const zero = await create({ requiredApprovals: 0 })
    expect(codes(zero)).toEqual(['BAD_USER_INPUT'])
    expect(zero.errors![0]!.extensions).toMatchObject({ field: 'input.requiredApprovals' })
    const tooMany = await create({ nextStages: Array.from({ length: 10 }, () => ({ primaryResolver: { type: 'ROLE', roleKey: 'member' } })) })
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT'])
    const badStage = await create({ nextStages: [{ primaryResolver: { type: 'ROLE', roleKey: 'nope' } }] })
    expect(codes(badStage)).toEqual(['BAD_USER_INPUT'])
    expect(badStage.errors![0]!.extensions).toMatchObject({ field: 'input.nextStages.0.primaryResolver.roleKey' })
    const stageQuorum = await create({ nextStages: [{ primaryResolver: { type: 'ROLE', roleKey: 'member' }, requiredApprovals: 51 }] })
    expect(stageQuorum.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.nextStages.0.requiredApprovals' })
    // stages are rule management: a reviewer may not write them
    expect(codes(await create({ requiredApprovals: 2 }, members[0]!.token))).toEqual(['FORBIDDEN'])
    expect((await server.gql(`{ approvalRules { name } }`, {}, server.ownerToken)).data.approvalRules.map((r: { name: string }) => r.name)).not.toContain('bad')
  })

  it('votes until the quorum, then the next stage, then approval; an edit on the way is what later stages review and what runs', async () => {
    const [m0, m1, m2] = members as [Principal, Principal, Principal]
    const id = await ask('three-then-legal')
    expect(await read(id)).toMatchObject({ status: 'PENDING', stage: 1, stageCount: 2, requiredApprovals: 3, votes: [] })
    expect(ids((await read(id)).reviewers)).toEqual(ids(members))

    // the first voter edits: nobody approved anything else before, so the edit simply is what the stage reviews
    const edited = { ...email, body: 'Signed at 95k.' }
    expect((await approve(m0, id, 'price up', edited)).data.approveRequest).toEqual({ status: 'PENDING', stage: 1, requiredApprovals: 3 })
    let request = await read(id)
    expect(request).toMatchObject({ edited: true, params: email, approvedParams: edited })
    expect(request.votes).toEqual([{ stage: 1, comment: 'price up', reviewer: { id: m0.id } }])
    expect(ids(request.reviewers)).toEqual(ids(members.slice(1)))
    expect(request.events.at(-1)).toMatchObject({ type: 'VOTED', actor: { id: m0.id }, details: { stage: 1, approvals: 1, requiredApprovals: 3 } })
    // nobody votes twice: m0 is no reviewer of this stage any more
    expect(codes(await approve(m0, id))).toEqual(['FORBIDDEN'])

    expect((await approve(m1, id, 'fine by me')).data.approveRequest).toMatchObject({ status: 'PENDING', stage: 1 })
    expect((await approve(m2, id)).data.approveRequest).toEqual({ status: 'PENDING', stage: 2, requiredApprovals: 1 })
    request = await read(id)
    expect(ids(request.reviewers)).toEqual([lena.id])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'EDITED', 'VOTED', 'VOTED', 'ADVANCED'])
    expect(request.events.at(-1)).toMatchObject({ actor: { id: m2.id }, details: { from: 1, to: 2, stage: 'Legal' } })
    // the stage-1 reviewers who did not vote lost it
    expect(codes(await approve(members[3]!, id))).toEqual(['FORBIDDEN'])

    expect((await approve(lena, id, 'ok for legal')).data.approveRequest).toMatchObject({ status: 'APPROVED', stage: 2 })
    request = await read(id)
    expect(request).toMatchObject({ status: 'APPROVED', decidedBy: { id: lena.id }, approvedParams: edited, execution: { params: edited } })
    expect(request.votes.map((v: { stage: number; reviewer: { id: string } }) => [v.stage, v.reviewer.id])).toEqual([
      [1, m0.id],
      [1, m1.id],
      [1, m2.id],
      [2, lena.id],
    ])
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'EDITED', 'VOTED', 'VOTED', 'ADVANCED', 'APPROVED'])
  })

  it("an edit after others approved in the stage voids their approvals: they are told, and vote again on what would run", async () => {
    // the attack it stops: m0 approves the price as asked, m1's edit changes it, m2's vote completes
    // the stage, and the edited price runs although m0 never approved it
    const [m0, m1, m2] = members as [Principal, Principal, Principal]
    const INBOX = `subscription { approvalInbox { type request { id approvedParams } } }`
    const listening = server.subscribed('approvalInbox')
    const m0Inbox = collect(server.ws(m0.token), INBOX)
    open.push(m0Inbox)
    await listening
    const id = await ask('three-then-legal')
    await m0Inbox.waitFor(1)
    expect((await approve(m0, id, 'fine at 90k')).data.approveRequest).toMatchObject({ status: 'PENDING', stage: 1 })
    expect((await m0Inbox.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id } })

    const edited = { ...email, body: 'Signed at 120k.' }
    expect((await approve(m1, id, 'price up', edited)).data.approveRequest).toEqual({ status: 'PENDING', stage: 1, requiredApprovals: 3 })
    let request = await read(id)
    expect(request).toMatchObject({ edited: true, approvedParams: edited })
    // only the editor's approval counts now; m0 reviews again
    expect(request.votes).toEqual([{ stage: 1, comment: 'price up', reviewer: { id: m1.id } }])
    expect(ids(request.reviewers)).toEqual(ids([m0, ...members.slice(2)]))
    expect(request.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'VOTED', 'EDITED', 'VOTES_VOIDED', 'VOTED'])
    expect(request.events[3]).toMatchObject({ actor: { id: m1.id }, details: { stage: 1, voters: [m0.id] }, comment: expect.stringMatching(/no longer count/) })
    expect(request.events[4]).toMatchObject({ actor: { id: m1.id }, details: { stage: 1, approvals: 1, requiredApprovals: 3 } })
    // m0's inbox has it again, as edited
    expect((await m0Inbox.waitFor(3))[2]!.data!.approvalInbox).toEqual({ type: 'ADDED', request: { id, approvedParams: edited } })

    // m2's approval no longer completes the stage on m0's approval of something else
    expect((await approve(m2, id)).data.approveRequest).toEqual({ status: 'PENDING', stage: 1, requiredApprovals: 3 })
    // m0 approves the edit: now the stage has its three approvals of what would run
    expect((await approve(m0, id, 'fine at 120k too')).data.approveRequest).toEqual({ status: 'PENDING', stage: 2, requiredApprovals: 1 })
    request = await read(id)
    expect(request.votes.map((v: { reviewer: { id: string }; comment: string | null }) => [v.reviewer.id, v.comment])).toEqual([
      [m1.id, 'price up'],
      [m2.id, null],
      [m0.id, 'fine at 120k too'],
    ])
    expect((await approve(lena, id)).data.approveRequest.status).toBe('APPROVED')
    expect((await read(id)).execution).toEqual({ params: edited })
  })

  it('any rejection rejects the request, whatever the votes so far', async () => {
    const id = await ask('three-then-legal')
    await approve(members[0]!, id)
    expect((await server.gql(REJECT, { id, c: 'no' }, members[1]!.token)).data.rejectRequest).toEqual({ status: 'REJECTED' })
    const request = await read(id)
    expect(request).toMatchObject({ status: 'REJECTED', execution: null, reviewers: [] })
    expect(codes(await approve(members[2]!, id))).toEqual(['CONFLICT'])
  })

  it('who approved in one stage is no reviewer of a later one (separation of duties)', async () => {
    const id = await ask('two-then-members')
    await approve(members[0]!, id)
    expect((await approve(members[1]!, id)).data.approveRequest).toMatchObject({ stage: 2, requiredApprovals: 1 })
    expect(ids((await read(id)).reviewers)).toEqual(ids(members.slice(2)))
    expect(codes(await approve(members[0]!, id))).toEqual(['FORBIDDEN'])
    expect((await approve(members[4]!, id)).data.approveRequest.status).toBe('APPROVED')
  })

  it('a stage with fewer possible reviewers than approvals gets its fallback, then the approval managers', async () => {
    // an agent of Olga's: the owner, an approval manager, may review what it asks
    const olgasAgent = await createAgentWithToken(server, { name: 'Olga bot', ownerId: olga.id })
    const id = await ask('short', olgasAgent.token)
    const request = await read(id)
    const owner = (await server.gql(`{ viewer { principal { id } } }`, {}, server.ownerToken)).data.viewer.principal.id
    expect(ids(request.reviewers)).toEqual([members[0]!.id, lena.id, owner].sort())
    expect(request).toMatchObject({ escalated: true, requiredApprovals: 3 })
    expect(request.events.find((e: { type: string }) => e.type === 'ESCALATED').comment).toMatch(/approval:manage/)
  })

  it("a later stage's escalation hands it to that stage's fallback", async () => {
    const id = await ask('three-then-legal')
    for (const m of members.slice(0, 3)) await approve(m, id)
    expect(ids((await read(id)).reviewers)).toEqual([lena.id])
    clock.advance(61)
    await server.app.scheduler.runOnce()
    const request = await read(id)
    expect(ids(request.reviewers)).toEqual([olga.id])
    expect(request.events.at(-1)).toMatchObject({ type: 'ESCALATED', comment: expect.stringMatching(/within 60 s/) })
    expect((await approve(olga, id)).data.approveRequest.status).toBe('APPROVED')
  })

  it('the inboxes: the voter loses the request, the next stage gains it, the others of the stage lose it when it moves on', async () => {
    const INBOX = `subscription { approvalInbox { type request { id stage } } }`
    const listening = server.subscribed('approvalInbox', 3)
    const [m0Inbox, m4Inbox, lenaInbox] = [members[0]!, members[4]!, lena].map((p) => collect(server.ws(p.token), INBOX))
    open.push(m0Inbox!, m4Inbox!, lenaInbox!)
    await listening
    const id = await ask('three-then-legal')
    expect((await m0Inbox!.waitFor(1))[0]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id } })
    await approve(members[0]!, id)
    expect((await m0Inbox!.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id } })
    // m4 still reviews it: told again (ADDED is "in your inbox, as it is now")
    expect((await m4Inbox!.waitFor(2))[1]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id, stage: 1 } })
    await approve(members[1]!, id)
    await approve(members[2]!, id)
    const lenaEvents = await lenaInbox!.waitFor(1)
    expect(lenaEvents[0]!.data!.approvalInbox).toMatchObject({ type: 'ADDED', request: { id, stage: 2 } })
    const m4Events = await m4Inbox!.waitFor(4)
    expect(m4Events.at(-1)!.data!.approvalInbox).toMatchObject({ type: 'REMOVED', request: { id } })
  })
})

describe('concurrent votes', () => {
  let crowd: Principal[]
  beforeAll(async () => {
    crowd = []
    // 20 more members: the rule's role has 25 holders, and these 20 vote at once
    for (let i = 0; i < 20; i++) crowd.push(await createUserWithToken(server, { email: `crowd${i}@example.com`, name: `Crowd ${i}`, roleKeys: ['member'] }))
    const voters = { primaryResolver: { type: 'ROLE', roleKey: 'member' } }
    await createRule(server, { name: 'crowd-3', resourceType: 'AGENT_ACTION', actionType: 'send_email', module: 'crowd-3', requiredApprovals: 3, ...voters })
    await createRule(server, {
      name: 'crowd-3-then-legal',
      resourceType: 'AGENT_ACTION',
      actionType: 'send_email',
      module: 'crowd-3-then-legal',
      requiredApprovals: 3,
      nextStages: [{ primaryResolver: { type: 'NAMED_USER', userId: lena.id } }],
      ...voters,
    })
  })

  it('20 reviewers approve a 3-of-25 stage at once: three votes count, one transition to APPROVED, one execution', async () => {
    const id = await ask('crowd-3')
    expect((await read(id)).reviewers).toHaveLength(25)
    const results = await Promise.all(crowd.map((p) => approve(p, id)))
    const ok = results.filter((r) => !r.errors)
    expect(ok).toHaveLength(3)
    // the others came too late: it was approved (CONFLICT), or they were no reviewers any more
    for (const r of results.filter((r) => r.errors)) expect(['CONFLICT', 'FORBIDDEN']).toContain(codes(r)[0])
    const request = await read(id)
    expect(request.status).toBe('APPROVED')
    expect(request.votes).toHaveLength(3)
    expect(new Set(request.votes.map((v: { reviewer: { id: string } }) => v.reviewer.id)).size).toBe(3)
    expect(request.events.filter((e: { type: string }) => e.type === 'APPROVED')).toHaveLength(1)
    expect(request.events.filter((e: { type: string }) => e.type === 'VOTED')).toHaveLength(2)
    expect(request.execution).not.toBeNull()
  })

  it('20 at once on a 3-of-25 stage before another: exactly one ADVANCED, and the next stage decides', async () => {
    const id = await ask('crowd-3-then-legal')
    const results = await Promise.all(crowd.map((p) => approve(p, id)))
    expect(results.filter((r) => !r.errors)).toHaveLength(3)
    const request = await read(id)
    expect(request).toMatchObject({ status: 'PENDING', stage: 2 })
    expect(request.votes).toHaveLength(3)
    expect(request.events.filter((e: { type: string }) => e.type === 'ADVANCED')).toHaveLength(1)
    expect(ids(request.reviewers)).toEqual([lena.id])
  })
})
