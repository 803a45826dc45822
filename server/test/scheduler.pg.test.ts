// PostgreSQL only: two instances' schedulers racing over one database.
import { decodeGlobalID } from '@pothos/plugin-relay'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, freshDatabase, ManualClock, startServer, type DatabaseLocation, type TestServer } from './harness.js'

const clock = new ManualClock()
let location: DatabaseLocation
let a: TestServer
let b: TestServer

beforeAll(async () => {
  location = await freshDatabase()
  a = await startServer({ clock, location, ownerToken: 'two-instances-owner' })
  b = await startServer({ clock, location, ownerToken: 'two-instances-owner' })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
})

/** Asks for approval as `token`, selecting only the request's id (a requester sees little of the rule). */
async function ask(server: TestServer, token: string, input: Record<string, unknown>): Promise<string> {
  const res = await server.gql(`mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { request { id } } }`, { input }, token)
  expect(res.errors).toBeUndefined()
  return res.data.requestApproval.request.id
}

it('expires, auto-approves and escalates each request exactly once when two instances run their schedulers at once', async () => {
  const carol = await createUserWithToken(a, { email: 'c@example.com', name: 'C', roleKeys: ['member'] })
  const bob = await createUserWithToken(a, { email: 'b@example.com', name: 'B', roleKeys: ['member'] })
  const agent = await createAgentWithToken(a, { name: 'Agent' })
  const rule = (module: string, extra: object) =>
    createRule(a, { name: module, resourceType: 'AGENT_ACTION', actionType: 'send_email', module, primaryResolver: { type: 'NAMED_USER', userId: carol.id }, ...extra })
  await rule('expire', { expiresAfterSeconds: 60 })
  await rule('auto', { primaryResolver: { type: 'AUTO_APPROVE', delaySeconds: 60 } })
  await rule('escalate', { fallbackResolver: { type: 'NAMED_USER', userId: bob.id }, escalateAfterSeconds: 60 })
  for (const module of ['expire', 'auto', 'escalate']) {
    for (let i = 0; i < 10; i++) {
      // half through each instance
      await ask(i % 2 ? a : b, agent.token, { resourceType: 'AGENT_ACTION', actionType: 'send_email', module, params: { to: 'x@corp.test', subject: 'Hi', body: 'Hello', i } })
    }
  }
  clock.advance(61)
  const [x, y] = await Promise.all([a.app.scheduler.runOnce(), b.app.scheduler.runOnce()])
  expect(x.expired.length + y.expired.length).toBe(10)
  expect(x.autoApproved.length + y.autoApproved.length).toBe(10)
  expect(x.escalated.length + y.escalated.length).toBe(10)
  const events = await a.db.prisma.approvalEvent.groupBy({ by: ['type'], _count: true, where: { type: { in: ['EXPIRED', 'APPROVED', 'ESCALATED'] } } })
  expect(Object.fromEntries(events.map((e) => [e.type, e._count]))).toEqual({ EXPIRED: 10, APPROVED: 10, ESCALATED: 10 })
  expect(await a.db.prisma.approvalReviewer.count({ where: { active: true, userId: decodeGlobalID(bob.id).id } })).toBe(10)
})
