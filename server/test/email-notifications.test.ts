// Email notifications and one-click decisions, against a real SMTP server on loopback (the
// smtp-server package; messages parsed with mailparser): whoever becomes a reviewer is emailed, once,
// through the outbox; the email's decision link shows the request (GET changes nothing) and
// decides as that reviewer (POST), once, until the request's deadline, and only while they are
// its reviewer.
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ParsedMail } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  codes,
  collect,
  createAgentWithToken,
  createRule,
  createUserWithToken,
  decide,
  freshDatabase,
  ManualClock,
  startServer,
  TEST_DATABASE_URL,
  type TestServer,
} from './harness.js'
import { startSmtp, type SmtpReceiver } from './smtp.js'

type Principal = { id: string; token: string }

const PUBLIC_URL = 'https://approvals.example.com'
const clock = new ManualClock()
let smtp: SmtpReceiver
let server: TestServer
let base: string
let agent: Principal
let rita: Principal
let dan: Principal
let admin: Principal

beforeAll(async () => {
  smtp = await startSmtp()
  server = await startServer({
    clock,
    notifications: { publicUrl: PUBLIC_URL, email: { smtpUrl: smtp.url, from: 'Approvals <approvals@example.com>' } },
  })
  base = server.url.replace(/\/graphql$/, '')
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  dan = await createUserWithToken(server, { email: 'dan@example.com', name: 'Dan Fallback', roleKeys: ['member'] })
  admin = await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Admin', roleKeys: ['admin'] })
  agent = await createAgentWithToken(server, { name: 'Outreach agent' })
  await createRule(server, {
    name: 'Emails to clients',
    resourceType: 'AGENT_ACTION',
    actionType: 'send_email',
    primaryResolver: { type: 'NAMED_USER', userId: rita.id },
    fallbackResolver: { type: 'NAMED_USER', userId: dan.id },
    escalateAfterSeconds: 600,
    expiresAfterSeconds: 3600,
  })
})
afterAll(async () => {
  await server?.destroy()
  await smtp?.close()
})

const EMAIL = { to: 'client@example.com', subject: 'Your quote', body: 'Hello,\nhere is the quote.' }

async function ask(params: Record<string, unknown> = EMAIL, summary = 'Send the quote to the client'): Promise<{ id: string; dbId: string }> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params, summary } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  const id = res.data.requestApproval.request.id as string
  return { id, dbId: Buffer.from(id, 'base64').toString().split(':')[1]! }
}

/** The emails about a request (they link to it in the inbox), to one address. */
const mailsAbout = (id: string, to: string) => smtp.messages.filter((m) => m.text?.includes(encodeURIComponent(id)) && m.to && 'text' in m.to && m.to.text === to)

/** Sends what is due and returns the one email about `id` to `to`. */
async function emailTo(id: string, to: string): Promise<ParsedMail> {
  await server.app.notifications.runOnce()
  const mails = mailsAbout(id, to)
  expect(mails).toHaveLength(1)
  return mails[0]!
}

/** The decision link of an email, as the public URL gives it, and the same path on the test server. */
function decisionLink(mail: ParsedMail): { link: string; local: string } {
  const link = /https:\/\/approvals\.example\.com\/decide\/[A-Za-z0-9_-]+/.exec(mail.text!)?.[0]
  expect(link).toBeDefined()
  return { link: link!, local: base + link!.slice(PUBLIC_URL.length) }
}

const post = (url: string, form: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })

const STATE = `query($id: ID!) { approvalRequest(id: $id) { status decidedBy { id } decisionComment events { type comment details } } }`
const state = async (id: string) => (await server.gql(STATE, { id }, server.ownerToken)).data.approvalRequest

describe('the email to a new reviewer', () => {
  it('arrives once, with what is asked, by whom, for whom, the action, the time left and both links; nothing the agent wrote becomes markup or a header', async () => {
    const hostile = { to: 'client@example.com', subject: 'Quote <script>alert(1)</script>', body: 'Hi <img src=x onerror=alert(1)>\nBcc: victim@example.com' }
    const { id } = await ask(hostile, 'Send the <b>quote</b>\r\nBcc: victim@example.com')
    const mail = await emailTo(id, 'rita@example.com')
    expect(mail.subject).toBe('Approval needed: Send the <b>quote</b> Bcc: victim@example.com')
    expect(mail.from?.value).toEqual([{ name: 'Approvals', address: 'approvals@example.com' }])
    expect(mail.headers.has('bcc')).toBe(false)
    expect(mail.bcc).toBeUndefined()
    const text = mail.text!
    expect(text).toContain('Outreach agent (agent) asks for approval on behalf of Olivia Owner')
    expect(text).toContain('For: Olivia Owner')
    expect(text).toContain('Action: Send an email (send_email)')
    expect(text).toContain('Time left: 1 hour')
    expect(text).toContain('To: client@example.com')
    expect(text).toContain('Subject: Quote <script>alert(1)</script>')
    expect(text).toContain(`${PUBLIC_URL}/#/inbox/${encodeURIComponent(id)}`)
    const { link } = decisionLink(mail)
    // the HTML part: the agent's text escaped, the links as links
    const html = mail.html as string
    expect(html).toContain('Quote &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('Hi &lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('Send the &lt;b&gt;quote&lt;/b&gt;')
    expect(html).not.toMatch(/<script|<img|<b>/i)
    expect(html).toContain(`href="${link}"`)
    expect(html).toContain(`href="${PUBLIC_URL}/#/inbox/${encodeURIComponent(id)}"`)
    // only the link's hash is stored
    const token = link.split('/').pop()!
    const stored = await server.db.prisma.decisionToken.findMany({ where: { request: { summary: { contains: 'quote' } } } })
    expect(stored.map((t) => t.tokenHash)).toContain(createHash('sha256').update(token).digest('hex'))
    expect(JSON.stringify(stored)).not.toContain(token)
    // exactly one per reviewer and assignment: another pass sends nothing more
    expect((await server.app.notifications.runOnce()).sent).toBe(0)
    expect(mailsAbout(id, 'rita@example.com')).toHaveLength(1)
  })

  it('GET shows the request with Approve, Reject and a comment field, under the inbox security headers, and changes nothing', async () => {
    const { id } = await ask()
    const { local } = decisionLink(await emailTo(id, 'rita@example.com'))
    for (let i = 0; i < 2; i++) {
      const res = await fetch(local)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toBe('no-store')
      const csp = res.headers.get('content-security-policy')!
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("form-action 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-inline')
      const page = await res.text()
      expect(page).toContain('<form method="post">')
      expect(page).toContain('<button type="submit" name="decision" value="approve"')
      expect(page).toContain('<button type="submit" name="decision" value="reject"')
      expect(page).toContain('<textarea id="comment" name="comment"')
      expect(page).toContain('Send the quote to the client')
      expect(page).toContain('Rita Reviewer')
      expect(page).not.toContain('<script')
    }
    const after = await state(id)
    expect(after.status).toBe('PENDING')
    expect(after.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED'])
  })

  it('POST approves as the reviewer, the waiting agent hears it, and the link is used up', async () => {
    const { id } = await ask()
    const { local } = decisionLink(await emailTo(id, 'rita@example.com'))
    const subscribed = server.subscribed('approvalDecision')
    const waiting = collect(server.ws(agent.token), `subscription($id: ID!) { approvalDecision(requestId: $id) { id status decidedBy { id } decisionComment } }`, { id })
    await subscribed
    const res = await post(local, { decision: 'approve', comment: 'Fine by me' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Approved. The agent is told')
    await waiting.completed
    expect(waiting.events).toEqual([{ data: { approvalDecision: { id, status: 'APPROVED', decidedBy: { id: rita.id }, decisionComment: 'Fine by me' } } }])
    const after = await state(id)
    expect(after.events.at(-1)).toEqual({ type: 'APPROVED', comment: 'Fine by me', details: { channel: 'EMAIL' } })
    // the channel is in the event as it was hashed: the audit log verifies
    expect((await server.gql(`{ verifyAuditLog { ok problem } }`, {}, server.ownerToken)).data.verifyAuditLog).toEqual({ ok: true, problem: null })
    // used once: again, or a look at it, is refused and changes nothing
    const again = await post(local, { decision: 'reject', comment: 'changed my mind' })
    expect(again.status).toBe(410)
    expect(await again.text()).toContain('This decision link was used already. Approved by Rita Reviewer: Fine by me')
    expect((await fetch(local)).status).toBe(410)
    expect((await state(id)).status).toBe('APPROVED')
  })

  it('POST rejects with the comment', async () => {
    const { id } = await ask()
    const { local } = decisionLink(await emailTo(id, 'rita@example.com'))
    const res = await post(local, { decision: 'reject', comment: '  Wrong client  ' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Rejected.')
    expect(await state(id)).toMatchObject({ status: 'REJECTED', decidedBy: { id: rita.id }, decisionComment: 'Wrong client' })
  })

  it('a request decided meanwhile says so (409), and bad forms, methods and unknown links decide nothing', async () => {
    const { id } = await ask()
    const { local } = decisionLink(await emailTo(id, 'rita@example.com'))
    expect((await post(local, { decision: 'maybe' })).status).toBe(400)
    expect((await post(local, { decision: 'approve', comment: 'x'.repeat(5001) })).status).toBe(400)
    const json = await fetch(local, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"decision":"approve"}' })
    expect(json.status).toBe(415)
    expect((await fetch(local, { method: 'DELETE' })).status).toBe(405)
    expect((await state(id)).status).toBe('PENDING')
    expect((await decide(server, rita.token, id, 'rejectRequest', 'Not now')).errors).toBeUndefined()
    const res = await post(local, { decision: 'approve' })
    expect(res.status).toBe(409)
    expect(await res.text()).toContain('Rejected by Rita Reviewer: Not now')
    expect((await state(id)).status).toBe('REJECTED')
    for (const path of ['/decide/not-a-token', `/decide/${'A'.repeat(43)}`]) {
      expect((await fetch(base + path)).status).toBe(404)
      expect((await post(base + path, { decision: 'approve' })).status).toBe(404)
    }
  })

  it('an expired link is refused (410) and decides nothing', async () => {
    const { id } = await ask()
    const { local } = decisionLink(await emailTo(id, 'rita@example.com'))
    clock.advance(3601)
    expect((await fetch(local)).status).toBe(410)
    const res = await post(local, { decision: 'approve' })
    expect(res.status).toBe(410)
    expect(await res.text()).toContain('expired')
    expect((await state(id)).status).toBe('PENDING')
    await server.app.scheduler.runOnce()
  })

  it('a reviewer who is no longer one cannot use an old link (403); the new reviewer is emailed and can', async () => {
    const { id } = await ask()
    const { local: old } = decisionLink(await emailTo(id, 'rita@example.com'))
    // not decided in time: the fallback takes over
    clock.advance(601)
    expect((await server.app.scheduler.runOnce()).escalated).toContain(Buffer.from(id, 'base64').toString().split(':')[1])
    const danMail = await emailTo(id, 'dan@example.com')
    expect(danMail.text).toContain('Time left: 49 minutes')
    expect((await fetch(old)).status).toBe(403)
    const refused = await post(old, { decision: 'approve' })
    expect(refused.status).toBe(403)
    expect(await refused.text()).toContain('no longer a reviewer')
    expect((await state(id)).status).toBe('PENDING')
    expect((await post(decisionLink(danMail).local, { decision: 'approve' })).status).toBe(200)
    expect(await state(id)).toMatchObject({ status: 'APPROVED', decidedBy: { id: dan.id } })
  })

  it('a failed delivery is retried by the shared schedule, and the link sent last works', async () => {
    smtp.refuseNext(1)
    const { id, dbId } = await ask()
    await server.app.notifications.runOnce()
    expect(mailsAbout(id, 'rita@example.com')).toHaveLength(0)
    const row = await server.db.prisma.notification.findFirstOrThrow({ where: { requestId: dbId, channel: 'EMAIL' } })
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, lastError: expect.stringContaining('Mailbox busy') })
    // not before its time: 5 s ± 25 %
    clock.advance(3)
    expect((await server.app.notifications.runOnce()).sent).toBe(0)
    clock.advance(4)
    const mail = await emailTo(id, 'rita@example.com')
    expect((await post(decisionLink(mail).local, { decision: 'approve' })).status).toBe(200)
  })

  it('is not sent to a user who turned email off (setMyNotifications), nor to reviewer agents', async () => {
    const off = await server.gql(`mutation { setMyNotifications(email: false) { id notifyByEmail } }`, {}, rita.token)
    expect(off.data.setMyNotifications).toEqual({ id: rita.id, notifyByEmail: false })
    const { id } = await ask()
    await server.app.notifications.runOnce()
    expect(mailsAbout(id, 'rita@example.com')).toHaveLength(0)
    expect((await server.gql(`mutation { setMyNotifications(email: true) { notifyByEmail } }`, {}, rita.token)).data.setMyNotifications.notifyByEmail).toBe(true)

    // dan's: a reviewer agent never reviews requests of an agent with its owner (the outreach agent is the service owner's)
    const reviewerAgent = await createAgentWithToken(server, { name: 'Reviewer bot', ownerId: dan.id })
    await createRule(server, {
      name: 'Pages by the bot',
      resourceType: 'AGENT_ACTION',
      actionType: 'create_landing_page',
      primaryResolver: { type: 'AGENT', agentId: reviewerAgent.id },
    })
    const page = await server.gql(
      `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
      { i: { resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', params: { title: 'Launch' } } },
      agent.token,
    )
    const pageId = page.data.requestApproval.request.id
    const reviewers = await server.gql(`query($id: ID!) { approvalRequest(id: $id) { reviewers { id } } }`, { id: pageId }, server.ownerToken)
    expect(reviewers.data.approvalRequest.reviewers).toEqual([{ id: reviewerAgent.id }])
    const dbId = Buffer.from(pageId, 'base64').toString().split(':')[1]!
    expect(await server.db.prisma.notification.count({ where: { requestId: dbId } })).toBe(0)
  })
})

describe('notification settings', () => {
  const UPDATE = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id notifyByEmail slackUserId } }`

  it('an admin sets anyone\'s email notifications and Slack member id; a member cannot, nor read another\'s', async () => {
    const set = await server.gql(UPDATE, { id: dan.id, input: { notifyByEmail: false, slackUserId: 'U0DAN1234' } }, admin.token)
    expect(set.data.updateUser).toEqual({ id: dan.id, notifyByEmail: false, slackUserId: 'U0DAN1234' })
    const cleared = await server.gql(UPDATE, { id: dan.id, input: { notifyByEmail: true, slackUserId: null } }, admin.token)
    expect(cleared.data.updateUser).toEqual({ id: dan.id, notifyByEmail: true, slackUserId: null })

    const refused = await server.gql(UPDATE, { id: dan.id, input: { slackUserId: 'U0RITA999' } }, rita.token)
    expect(codes(refused)).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(UPDATE, { id: rita.id, input: { notifyByEmail: false } }, rita.token))).toEqual(['FORBIDDEN'])
    const others = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { notifyByEmail } } }`, { id: dan.id }, rita.token)
    expect(codes(others)).toEqual(['FORBIDDEN'])
    const own = await server.gql(`{ viewer { principal { ... on User { notifyByEmail slackUserId } } } }`, {}, rita.token)
    expect(own.data.viewer.principal).toEqual({ notifyByEmail: true, slackUserId: null })
    expect((await server.gql(`query($id: ID!) { node(id: $id) { ... on User { slackUserId } } }`, { id: dan.id }, admin.token)).data.node).toEqual({ slackUserId: null })
  })

  it('refuses a malformed Slack member id, and one linked to another user; nothing changes', async () => {
    expect((await server.gql(UPDATE, { id: rita.id, input: { slackUserId: 'U0RITA001' } }, admin.token)).errors).toBeUndefined()
    for (const bad of ['u0lower', 'X0ABC', 'U0', '', `U${'A'.repeat(30)}`, 'U0ABC<@here>']) {
      const res = await server.gql(UPDATE, { id: dan.id, input: { slackUserId: bad } }, admin.token)
      expect(codes(res), bad).toEqual(['BAD_USER_INPUT'])
    }
    const taken = await server.gql(UPDATE, { id: dan.id, input: { slackUserId: 'U0RITA001', notifyByEmail: false } }, admin.token)
    expect(codes(taken)).toEqual(['BAD_USER_INPUT'])
    expect(taken.errors![0]!.extensions).toMatchObject({ field: 'input.slackUserId' })
    const danNow = await server.gql(`query($id: ID!) { node(id: $id) { ... on User { notifyByEmail slackUserId } } }`, { id: dan.id }, admin.token)
    expect(danNow.data.node).toEqual({ notifyByEmail: true, slackUserId: null })
    await server.gql(UPDATE, { id: rita.id, input: { slackUserId: null } }, admin.token)
  })

  it('an agent has no notification settings of its own', async () => {
    expect(codes(await server.gql(`mutation { setMyNotifications(email: false) { id } }`, {}, agent.token))).toEqual(['FORBIDDEN'])
    expect(codes(await server.gql(`mutation { setMyNotifications(email: false) { id } }`))).toEqual(['UNAUTHENTICATED'])
  })
})

describe('without SMTP_URL', () => {
  const REQUEST = `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`
  const cleanups: (() => Promise<unknown>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  it('writes and sends no email, and has no Slack endpoint', async () => {
    const quiet = await startServer({ clock })
    try {
      const reviewer = await createUserWithToken(quiet, { email: 'quiet@example.com', name: 'Quiet', roleKeys: ['member'] })
      const bot = await createAgentWithToken(quiet, { name: 'Bot' })
      await createRule(quiet, { name: 'All', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
      const before = smtp.messages.length
      const res = await quiet.gql(REQUEST, { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL } }, bot.token)
      expect(res.errors).toBeUndefined()
      expect(await quiet.db.prisma.approvalReviewer.count({ where: { active: true } })).toBe(1)
      await quiet.app.notifications.runOnce()
      expect(await quiet.db.prisma.notification.findMany()).toEqual([])
      expect(smtp.messages.length).toBe(before)
      // nor Slack: its endpoint is not there
      const slack = await fetch(quiet.url.replace(/\/graphql$/, '/integrations/slack/interactivity'), { method: 'POST', body: 'payload=%7B%7D' })
      expect(slack.status).toBe(404)
    } finally {
      await quiet.destroy()
    }
  })

  it('marks skipped an email written while email was on, once the service runs without it; new reviewers get none', async () => {
    const dataDir = TEST_DATABASE_URL ? undefined : await mkdtemp(join(tmpdir(), 'approvals-email-off-'))
    if (dataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const location = await freshDatabase(dataDir)
    cleanups.push(() => location.drop())
    const ownerToken = 'email-off-owner'
    const first = await startServer({ location, clock, ownerToken, notifications: { publicUrl: PUBLIC_URL, email: { smtpUrl: smtp.url, from: 'approvals@example.com' } } })
    const reviewer = await createUserWithToken(first, { email: 'later@example.com', name: 'Later', roleKeys: ['member'] })
    const bot = await createAgentWithToken(first, { name: 'Bot' })
    await createRule(first, { name: 'All', resourceType: 'AGENT_ACTION', actionType: 'send_email', primaryResolver: { type: 'NAMED_USER', userId: reviewer.id } })
    // the mail server refuses it: the email waits for its retry
    smtp.refuseNext(1)
    expect((await first.gql(REQUEST, { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL } }, bot.token)).errors).toBeUndefined()
    await first.app.notifications.runOnce()
    expect(await first.db.prisma.notification.findMany()).toEqual([expect.objectContaining({ channel: 'EMAIL', status: 'PENDING', attempts: 1 })])
    await first.stop()

    const second = await startServer({ location, clock, ownerToken })
    try {
      const before = smtp.messages.length
      clock.advance(60)
      await second.app.notifications.runOnce()
      expect(await second.db.prisma.notification.findMany()).toEqual([
        expect.objectContaining({ channel: 'EMAIL', status: 'SKIPPED', attempts: 1, lastError: 'Email is off (SMTP_URL is not set).' }),
      ])
      expect((await second.gql(REQUEST, { i: { resourceType: 'AGENT_ACTION', actionType: 'send_email', params: EMAIL } }, bot.token)).errors).toBeUndefined()
      await second.app.notifications.runOnce()
      expect(await second.db.prisma.notification.count()).toBe(1)
      expect(await second.db.prisma.approvalReviewer.count({ where: { active: true } })).toBe(2)
      expect(smtp.messages.length).toBe(before)
    } finally {
      await second.stop()
    }
  })
})
