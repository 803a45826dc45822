// decideRequests: many requests decided in one call, each on its own. One that is refused
// (decided meanwhile, not the viewer's, unknown, not an ID) does not stop the others, and the
// results come in the order asked, with the code a single decision would have had.
import { encodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codes, createAgentWithToken, createRule, createUserWithToken, decide, startServer, type TestServer } from './harness.js'

let server: TestServer
let agent: { id: string; token: string }
let alice: { id: string; token: string }
let bob: { id: string; token: string }

beforeAll(async () => {
  server = await startServer()
  agent = await createAgentWithToken(server, { name: 'Bulk agent' })
  alice = await createUserWithToken(server, { email: 'alice@example.com', name: 'Alice', roleKeys: ['member'] })
  bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
  for (const [module, userId] of [['alice', alice.id], ['bob', bob.id]] as const) {
    await createRule(server, { name: `posts for ${module}`, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, primaryResolver: { type: 'NAMED_USER', userId } })
  }
})
afterAll(async () => {
  await server?.destroy()
})

async function ask(module: string, n: number): Promise<string> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { platform: 'linkedin', text: `Post ${n}` } } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data.requestApproval.request.id
}

const BULK = `mutation($ids: [ID!]!, $d: Decision!, $c: String) {
  decideRequests(ids: $ids, decision: $d, comment: $c) { id code message request { id status decisionComment decidedBy { id } events { type } } }
}`

describe('decideRequests', () => {
  it('decides each request on its own, in order: decided ones, and refusals with their codes', async () => {
    const [a1, a2, a3] = [await ask('alice', 1), await ask('alice', 2), await ask('alice', 3)]
    const theirs = await ask('bob', 4)
    expect((await decide(server, alice.token, a2, 'rejectRequest')).errors).toBeUndefined() // decided before
    const res = await server.gql(BULK, { ids: [a1, a2, theirs, 'not-an-id', a3], d: 'APPROVE', c: 'Fine by me' }, alice.token)
    expect(res.errors).toBeUndefined()
    const results = res.data.decideRequests
    expect(results.map((r: { id: string }) => r.id)).toEqual([a1, a2, theirs, 'not-an-id', a3])
    expect(results.map((r: { code: string | null }) => r.code)).toEqual([null, 'CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT', null])
    for (const i of [0, 4]) {
      expect(results[i].request).toMatchObject({ status: 'APPROVED', decisionComment: 'Fine by me', decidedBy: { id: alice.id }, events: [{ type: 'REQUESTED' }, { type: 'APPROVED' }] })
      expect(results[i].message).toBeNull()
    }
    for (const i of [1, 2, 3]) expect(results[i].request).toBeNull()
    expect(results[1].message).toMatch(/no longer pending/)
    // the refused ones are as they were: Bob's still waits for Bob
    const still = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status } }`, { id: theirs }, bob.token)
    expect(still.data.approvalRequest.status).toBe('PENDING')
    // an ID of no request is refused on its own, not the call
    const nobody = encodeGlobalID('ApprovalRequest', '01a21e3a-8d00-7087-abef-162975b11430')
    const none = await server.gql(BULK, { ids: [nobody], d: 'REJECT' }, alice.token)
    expect(none.errors).toBeUndefined()
    expect(none.data.decideRequests).toEqual([{ id: nobody, code: 'NOT_FOUND', message: 'Approval request not found.', request: null }])
  })

  it('rejects in bulk, and a request named twice is decided once', async () => {
    const id = await ask('bob', 5)
    const res = await server.gql(BULK, { ids: [id, id], d: 'REJECT', c: 'Not now' }, bob.token)
    expect(res.errors).toBeUndefined()
    expect(res.data.decideRequests.map((r: { code: string | null }) => r.code)).toEqual([null, 'CONFLICT'])
    expect(res.data.decideRequests[0].request).toMatchObject({ status: 'REJECTED', decisionComment: 'Not now', events: [{ type: 'REQUESTED' }, { type: 'REJECTED' }] })
  })

  it('refuses a caller without approval:resolve, and more than 100 ids or none, deciding nothing', async () => {
    const id = await ask('alice', 6)
    expect(codes(await server.gql(BULK, { ids: [id], d: 'APPROVE' }, agent.token.replace(/./, 'x')))).toEqual(['UNAUTHENTICATED'])
    // a role that may read the history but decide nothing (no built-in role lacks approval:resolve)
    await server.db.prisma.role.create({ data: { key: 'auditor', name: 'Auditor', permissions: ['approval:view'] } })
    const viewer = await createUserWithToken(server, { email: 'auditor@example.com', name: 'Auditor', roleKeys: ['auditor'] })
    expect(codes(await server.gql(BULK, { ids: [id], d: 'APPROVE' }, viewer.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(BULK, { ids: Array.from({ length: 101 }, () => id), d: 'APPROVE' }, alice.token))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await server.gql(BULK, { ids: [], d: 'APPROVE' }, alice.token))).toEqual(['BAD_USER_INPUT'])
    expect(codes(await server.gql(BULK, { ids: [id], d: 'APPROVE', c: 'x'.repeat(5001) }, alice.token))).toEqual(['BAD_USER_INPUT'])
    const read = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { status } }`, { id }, alice.token)
    expect(read.data.approvalRequest.status).toBe('PENDING')
  })
})

describe('decideRequests and the rate limit', () => {
  it('counts one call per request it names: a bulk call past the limit is refused whole', async () => {
    const limited = await startServer({ rateLimitPerMinute: 5 })
    try {
      const carol = await createUserWithToken(limited, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
      const dave = await createUserWithToken(limited, { email: 'dave@example.com', name: 'Dave', roleKeys: ['member'] })
      const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`)
      // six at once is past five a minute: refused before anything runs
      expect(codes(await limited.gql(BULK, { ids: ids(6), d: 'APPROVE' }, carol.token))).toEqual(['RATE_LIMITED'])
      // five run (each unknown ID refused on its own), and use the minute's budget up
      const within = await limited.gql(BULK, { ids: ids(5), d: 'APPROVE' }, dave.token)
      expect(within.errors).toBeUndefined()
      expect(within.data.decideRequests.map((r: { code: string }) => r.code)).toEqual(Array(5).fill('BAD_USER_INPUT'))
      expect(codes(await limited.gql(BULK, { ids: ids(1), d: 'APPROVE' }, dave.token))).toEqual(['RATE_LIMITED'])
    } finally {
      await limited.destroy()
    }
  })
})
