// PostgreSQL only: two instances sending the notification outbox of one database at the same
// time send each email once (rows are claimed FOR UPDATE SKIP LOCKED, under a lease).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, freshDatabase, ManualClock, startServer, type DatabaseLocation, type TestServer } from './harness.js'
import { startSmtp, type SmtpReceiver } from './smtp.js'

const clock = new ManualClock()
let location: DatabaseLocation
let smtp: SmtpReceiver
let a: TestServer
let b: TestServer

beforeAll(async () => {
  location = await freshDatabase()
  // slow enough that the two instances' passes overlap
  smtp = await startSmtp({ delayMs: 20 })
  const notifications = { publicUrl: 'https://approvals.example.com', email: { smtpUrl: smtp.url, from: 'approvals@example.com' } }
  a = await startServer({ clock, location, ownerToken: 'notifications-pg-owner', notifications })
  b = await startServer({ clock, location, ownerToken: 'notifications-pg-owner', notifications })
})
afterAll(async () => {
  await a?.stop()
  await b?.stop()
  await location?.drop()
  await smtp?.close()
})

it('sends each email once when two instances dispatch at once', async () => {
  const reviewers = [
    await createUserWithToken(a, { email: 'one@example.com', name: 'One', roleKeys: ['member'] }),
    await createUserWithToken(a, { email: 'two@example.com', name: 'Two', roleKeys: ['member'] }),
  ]
  const agent = await createAgentWithToken(a, { name: 'Agent' })
  await createRule(a, { name: 'Everyone', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'ROLE', roleKey: 'member' } })
  // every first attempt fails, so that all of them are due together, later
  const requests = 15
  smtp.refuseNext(requests * reviewers.length)
  for (let i = 0; i < requests; i++) {
    const res = await (i % 2 ? a : b).gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
      { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', summary: `Email ${i}`, params: { to: 'x@corp.test', subject: `Hi ${i}`, body: 'Hello' } } },
      agent.token,
    )
    expect(res.errors).toBeUndefined()
  }
  await Promise.all([a.app.notifications.runOnce(), b.app.notifications.runOnce()])
  expect(smtp.messages).toHaveLength(0)
  expect(await a.db.prisma.notification.count({ where: { status: 'PENDING', attempts: 1 } })).toBe(requests * reviewers.length)

  clock.advance(10)
  const [x, y] = await Promise.all([a.app.notifications.runOnce(), b.app.notifications.runOnce()])
  expect(x.sent + y.sent).toBe(requests * reviewers.length)
  // both took part
  expect(x.sent).toBeGreaterThan(0)
  expect(y.sent).toBeGreaterThan(0)
  const sent = smtp.messages.map((m) => `${(m.to as { text: string }).text} ${m.subject}`).sort()
  expect(sent).toEqual([...new Set(sent)])
  expect(sent).toHaveLength(requests * reviewers.length)
  expect(await a.db.prisma.notification.count({ where: { status: 'SENT', attempts: 2 } })).toBe(requests * reviewers.length)
})
