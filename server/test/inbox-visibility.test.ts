// The inbox hub decides in memory who may see a request and who may decide it (isVisibleTo,
// isDecidableBy); the API decides the same in SQL (visibleTo, decidableBy). They must agree: this
// compares them over every pair of a set of viewers and requests in all the states that matter.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { indexReviewers, inboxChange, isDecidableBy, isVisibleTo, REQUEST_FACTS } from '../src/approvals/inbox-hub.js'
import { decidableBy, visibleTo } from '../src/approvals/requests.js'
import { hashToken } from '../src/auth/tokens.js'
import { readViewer, type Viewer } from '../src/auth/viewer.js'
import { createAgentWithToken, createRule, createUserWithToken, decide, ManualClock, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
const clock = new ManualClock()
let server: TestServer

beforeAll(async () => {
  server = await startServer({ clock })
})
afterAll(() => server?.destroy())

const dbId = (globalId: string) => decodeGlobalID(globalId).id

async function ask(token: string, module: string, summary: string): Promise<string> {
  const res = await server.gql(
    `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`,
    { input: { resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, params: { text: summary }, summary } },
    token,
  )
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

it('isVisibleTo and isDecidableBy agree with visibleTo and decidableBy for every viewer and request', async () => {
  const dave = await createUserWithToken(server, { email: 'dave@example.com', name: 'Dave', roleKeys: ['member'] })
  const carol = await createUserWithToken(server, { email: 'carol@example.com', name: 'Carol', roleKeys: ['member'] })
  const bob = await createUserWithToken(server, { email: 'bob@example.com', name: 'Bob', roleKeys: ['member'] })
  const stranger = await createUserWithToken(server, { email: 'stranger@example.com', name: 'Stranger', roleKeys: ['member'] })
  const viewerOfAll = await createUserWithToken(server, { email: 'mgr@example.com', name: 'Manager', roleKeys: ['manager'] })
  // acts for dave: its requests are on dave's behalf
  const asker = await createAgentWithToken(server, { name: 'Asker', ownerId: dave.id })
  const reviewerAgent = await createAgentWithToken(server, { name: 'Reviewer agent' })
  const otherAgent = await createAgentWithToken(server, { name: 'Other agent' })
  const rule = (module: string, extra: Record<string, unknown>) =>
    createRule(server, { name: module, resourceType: 'AGENT_ACTION', actionType: 'post_to_social', module, ...extra })
  await rule('carol', { primaryResolver: { type: 'NAMED_USER', userId: carol.id } })
  await rule('expiring', { primaryResolver: { type: 'NAMED_USER', userId: carol.id }, expiresAfterSeconds: 30 })
  await rule('escalating', { primaryResolver: { type: 'NAMED_USER', userId: bob.id }, fallbackResolver: { type: 'NAMED_USER', userId: carol.id }, escalateAfterSeconds: 60 })
  await rule('agent', { primaryResolver: { type: 'AGENT', agentId: reviewerAgent.id } })

  const pending = await ask(asker.token, 'carol', 'pending')
  const byUser = await ask(bob.token, 'carol', 'asked by a user')
  const escalated = await ask(asker.token, 'escalating', 'escalated')
  const forAgent = await ask(asker.token, 'agent', 'for the reviewer agent')
  const approved = await ask(asker.token, 'carol', 'approved')
  const cancelled = await ask(asker.token, 'carol', 'cancelled')
  expect((await decide(server, carol.token, approved, 'approveRequest')).errors).toBeUndefined()
  expect((await server.gql(`mutation($id: ID!) { cancelApprovalRequest(id: $id) { status } }`, { id: cancelled }, asker.token)).errors).toBeUndefined()
  clock.advance(61)
  await server.app.scheduler.runOnce() // escalates `escalated`: bob replaced, carol active
  // pending, with its deadline passed but not yet expired by the scheduler
  const overdue = await ask(asker.token, 'expiring', 'overdue')
  clock.advance(31)

  const principals: Principal[] = [dave, carol, bob, stranger, viewerOfAll, asker, reviewerAgent, otherAgent]
  const viewers = await Promise.all(principals.map(async (p) => (await readViewer(server.db.prisma, hashToken(p.token)))!.viewer))
  const requests = [pending, byUser, escalated, forAgent, approved, cancelled, overdue].map(dbId)
  const now = clock.now()
  const seen = { visible: new Set<boolean>(), decidable: new Set<boolean>() }
  for (const id of requests) {
    const facts = await server.db.prisma.approvalRequest.findUniqueOrThrow({ where: { id }, select: REQUEST_FACTS })
    const index = indexReviewers(facts)
    for (const viewer of viewers) {
      const where = (clause: object) => server.db.prisma.approvalRequest.count({ where: { AND: [{ id }, clause] } }).then((n) => n > 0)
      const pair = `${viewer.kind} ${viewer.id} / request ${id}`
      const visible = await where(visibleTo(viewer))
      const decidable = await where(decidableBy(viewer, now))
      expect({ pair, visible: isVisibleTo(viewer, facts, index) }).toEqual({ pair, visible })
      expect({ pair, decidable: isDecidableBy(viewer, facts, now, index) }).toEqual({ pair, decidable })
      // and without the index built beforehand
      expect(isVisibleTo(viewer, facts)).toBe(visible)
      // the inbox tells nothing to whoever may not see the request
      if (!visible) expect(inboxChange(viewer, facts, index)).toBeNull()
      seen.visible.add(visible)
      seen.decidable.add(decidable)
    }
  }
  // the comparison covered both answers of each
  expect(seen).toEqual({ visible: new Set([true, false]), decidable: new Set([true, false]) })
})

it('inboxChange: ADDED, UPDATED and REMOVED by reviewer state and status', () => {
  const user = (id: string): Viewer => ({ kind: 'user', id, tokenId: 't', permissions: new Set(['approval:resolve']), roleKeys: ['member'] })
  const facts = (status: 'PENDING' | 'APPROVED', reviewers: { userId: string; active: boolean }[]) => ({
    id: 'r',
    status,
    expiresAt: null,
    requesterUserId: null,
    requesterAgentId: 'agent',
    onBehalfOfId: null,
    reviewers: reviewers.map((r) => ({ ...r, agentId: null })),
  })
  const reviewers = [
    { userId: 'new', active: true },
    { userId: 'again', active: false },
    { userId: 'again', active: true },
    { userId: 'gone', active: false },
  ]
  const told = (status: 'PENDING' | 'APPROVED') =>
    Object.fromEntries(['new', 'again', 'gone', 'stranger'].map((id) => [id, inboxChange(user(id), facts(status, reviewers))]))
  expect(told('PENDING')).toEqual({ new: 'ADDED', again: 'UPDATED', gone: 'REMOVED', stranger: null })
  expect(told('APPROVED')).toEqual({ new: 'REMOVED', again: 'REMOVED', gone: null, stranger: null })
})
