// The hot writes (approvals/request-writes.ts): once the principal and the rules are cached, a
// matched requestApproval is its reviewers' read and one statement that writes the request, its
// reviewers and events; approveRequest is a read and one statement that writes the decision, its
// event and execution. Both answer from what they wrote, and what they answer is what a later
// read shows. When their guard fails they fall back to the transactional path, which the other
// suites cover (rule-cache: a rule changed meanwhile; deadlines, security-routing: refusals).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  getRequest,
  REQUESTER_FIELDS,
  startServer,
  type TestServer,
} from './harness.js'

let server: TestServer
let statements: string[] = []
let agent: { id: string; token: string }
const reviewers: { id: string; token: string }[] = []

beforeAll(async () => {
  server = await startServer({ onQuery: (sql) => statements.push(sql) })
  for (let i = 0; i < 5; i++) {
    reviewers.push(await createUserWithToken(server, { email: `hot${i}@example.com`, name: `Hot ${i}`, roleKeys: ['member'] }))
  }
  agent = await createAgentWithToken(server, { name: 'Hot path agent' })
  await createRule(server, {
    name: 'Emails need a hot reviewer',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    module: 'hot',
    primaryResolver: { type: 'ROLE', roleKey: 'member' },
    expiresAfterSeconds: 3600,
  })
})
afterAll(async () => {
  await server?.destroy()
})

const email = (n: number | string, key?: string) => ({
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  module: 'hot',
  summary: `Email ${n}`,
  params: { to: 'customer@example.com', subject: `Order ${n}`, body: 'It ships today.' },
  context: { conversation: n },
  ...(key ? { idempotencyKey: key } : {}),
})
const ASK = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { approvalRequired request { id status } } }`
const APPROVE = `mutation($id: ID!) { approveRequest(id: $id) { id status } }`
const transactions = () => statements.filter((sql) => /^\s*(BEGIN|COMMIT)/i.test(sql) || sql.includes('Implicit "COMMIT"'))

describe('the hot writes', () => {
  it('a matched requestApproval costs two statements once warm: the reviewers, then one write; no transaction', async () => {
    await server.gql(ASK, { i: email('warm-up', 'hot-warm') }, agent.token)
    statements = []
    const res = await server.gql(ASK, { i: email(1, 'hot-1') }, agent.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.requestApproval).toMatchObject({ approvalRequired: true, request: { status: 'PENDING' } })
    expect(statements.length).toBeLessThanOrEqual(4) // the bound; two today
    expect(statements).toHaveLength(2)
    expect(transactions()).toEqual([])
  })

  it('approveRequest costs two statements: the request, then one write; the agent is told', async () => {
    const asked = await server.gql(ASK, { i: email(2) }, agent.token)
    const id = asked.data.requestApproval.request.id as string
    await server.gql(`{ viewer { permissions } }`, {}, reviewers[0]!.token) // warms the reviewer's token
    statements = []
    const approved = await server.gql(APPROVE, { id }, reviewers[0]!.token)
    expect(approved.errors).toBeUndefined()
    expect(approved.data.approveRequest).toEqual({ id, status: 'APPROVED' })
    expect(statements).toHaveLength(2)
    expect(transactions()).toEqual([])
    // the decision's event and the execution were written with it
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { events { type } execution { status attempts } } }`, { id }, agent.token)
    expect(read.errors).toBeUndefined()
    expect(read.data.approvalRequest.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'APPROVED'])
    expect(read.data.approvalRequest.execution).toEqual({ status: 'READY', attempts: 0 })
  })

  it('answers with what a later read shows, field for field, for the request and for its decision', async () => {
    // the requester's answer (it is not shown how its request is reviewed) and its later read
    const asked = await server.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { ${REQUESTER_FIELDS} } } }`,
      { i: email(3, 'hot-3') },
      agent.token,
    )
    expect(asked.errors).toBeUndefined()
    const created = asked.data.requestApproval.request
    expect(created.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED'])
    const readAs = (token: string, fields: string) => server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${fields} } }`, { id: created.id }, token)
    expect((await readAs(agent.token, REQUESTER_FIELDS)).data.approvalRequest).toEqual(created)
    expect((await getRequest(server, server.ownerToken, created.id)).data.approvalRequest.reviewers).toHaveLength(5)
    // the reviewer's answer to its decision, and its later read
    const rejected = await decide(server, reviewers[1]!.token, created.id, 'rejectRequest', 'Not this week')
    expect(rejected.errors).toBeUndefined()
    expect(rejected.data.rejectRequest).toMatchObject({ status: 'REJECTED', decisionComment: 'Not this week', decidedBy: { id: reviewers[1]!.id } })
    expect((await getRequest(server, reviewers[1]!.token, created.id)).data.approvalRequest).toEqual(rejected.data.rejectRequest)
    const { reviewers: _reviewers, resolverType: _resolverType, escalated: _escalated, events: _events, ...decision } = rejected.data.rejectRequest
    expect((await readAs(agent.token, REQUESTER_FIELDS)).data.approvalRequest).toMatchObject(decision)
    // and with the columns alone, without a read, the same values
    const COLUMNS = 'id status actionType params summary context expiresAt createdAt'
    const bare = await server.gql(`mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { ${COLUMNS} } } }`, { i: email(4, 'hot-4') }, agent.token)
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { ${COLUMNS} } }`, { id: bare.data.requestApproval.request.id }, agent.token)
    expect(bare.errors).toBeUndefined()
    expect(bare.data.requestApproval.request).toEqual(read.data.approvalRequest)
    // a requester asking for how it is reviewed, bare row or not, is refused
    expect(codes(await server.gql(`mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id resolverType } } }`, { i: email(40, 'hot-40') }, agent.token))).toEqual(['FORBIDDEN'])
  })

  it('a retry and concurrent twins with one idempotency key make one request', async () => {
    const first = await server.gql(ASK, { i: email(5, 'hot-5') }, agent.token)
    const retry = await server.gql(ASK, { i: email(5, 'hot-5') }, agent.token)
    expect(retry.data.requestApproval.request.id).toBe(first.data.requestApproval.request.id)
    const twins = await Promise.all(Array.from({ length: 4 }, () => server.gql(ASK, { i: email(6, 'hot-6') }, agent.token)))
    expect(twins.map((t) => t.errors)).toEqual([undefined, undefined, undefined, undefined])
    expect(new Set(twins.map((t) => t.data.requestApproval.request.id)).size).toBe(1)
    const history = await server.gql(`query { approvalHistory(first: 100, filter: { actionType: "send_email" }) { edges { node { summary } } } }`, {}, server.ownerToken)
    expect(history.errors).toBeUndefined()
    expect(history.data.approvalHistory.edges.filter((e: { node: { summary: string } }) => e.node.summary === 'Email 6')).toHaveLength(1)
    // the same key with other input is refused, and nothing is written
    const reused = await server.gql(ASK, { i: { ...email(7, 'hot-6') } }, agent.token)
    expect(codes(reused)).toEqual(['BAD_USER_INPUT'])
  })

  it('concurrent decisions of one request: one wins, the others are told it is decided; one execution', async () => {
    const asked = await server.gql(ASK, { i: email(8) }, agent.token)
    const id = asked.data.requestApproval.request.id as string
    const results = await Promise.all(reviewers.map((r, i) => server.gql(i % 2 ? `mutation($id: ID!) { rejectRequest(id: $id) { id status } }` : APPROVE, { id }, r.token)))
    const won = results.filter((r) => !r.errors)
    expect(won).toHaveLength(1)
    expect(results.filter((r) => r.errors).map((r) => codes(r)[0])).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT'])
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status events { type } } }`, { id }, agent.token)
    expect(read.data.approvalRequest.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', read.data.approvalRequest.status])
  })

  it('a principal who is not a reviewer is refused, and nothing is written', async () => {
    const asked = await server.gql(ASK, { i: email(9) }, agent.token)
    const id = asked.data.requestApproval.request.id as string
    const outsider = await createUserWithToken(server, { email: 'outsider@example.com', name: 'Outsider', roleKeys: ['member'] })
    expect(codes(await server.gql(APPROVE, { id }, outsider.token))).toEqual(['NOT_FOUND'])
    expect(codes(await server.gql(APPROVE, { id }, server.ownerToken))).toEqual(['FORBIDDEN'])
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status events { type } } }`, { id }, agent.token)
    expect(read.data.approvalRequest).toEqual({ status: 'PENDING', events: [{ type: 'REQUESTED' }] })
  })
})
