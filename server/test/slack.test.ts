// Slack, against a local stand-in of the documented Web API (node:http on loopback, recording the
// calls @slack/web-api makes): a reviewer with a Slack member id gets each request as a direct
// message with Approve and Reject buttons; signed clicks decide as the user linked to the member;
// bad signatures, stale timestamps and members linked to nobody decide nothing; the message's
// buttons give way to the outcome once the request is decided, wherever and by whomever.
import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentWithToken, createRule, createUserWithToken, decide, ManualClock, startServer, type TestServer } from './harness.js'

type Principal = { id: string; token: string }
interface ApiCall {
  method: string
  authorization: string | undefined
  args: Record<string, any>
  response: Record<string, any>
}

/**
 * The Slack Web API as documented for the methods used (chat.postMessage to a member id opens the
 * app's DM with them, chat.update, chat.postEphemeral, views.open), answering `{ ok: true, ... }`
 * and recording each call.
 */
async function startSlackStandIn() {
  const calls: ApiCall[] = []
  let next = 1
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '')
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const args: Record<string, any> = {}
      for (const [key, value] of form) args[key] = ['blocks', 'view'].includes(key) ? JSON.parse(value) : value
      const answer = (body: object) => {
        const response = { ok: true, ...body }
        calls.push({ method, authorization: req.headers.authorization, args, response })
        res.setHeader('content-type', 'application/json; charset=utf-8')
        res.end(JSON.stringify(response))
      }
      switch (method) {
        case 'chat.postMessage':
          return answer({ channel: `D${String(args.channel).slice(1)}`, ts: `1767600000.${String(next++).padStart(6, '0')}`, message: { text: args.text } })
        case 'chat.update':
          return answer({ channel: args.channel, ts: args.ts })
        case 'chat.postEphemeral':
          return answer({ message_ts: `1767600000.${String(next++).padStart(6, '0')}` })
        case 'views.open':
          return answer({ view: { id: `V${next++}` } })
        default:
          res.statusCode = 404
          res.end(JSON.stringify({ ok: false, error: 'unknown_method' }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    calls,
    of: (method: string) => calls.filter((c) => c.method === method),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef'
const clock = new ManualClock()
let slack: Awaited<ReturnType<typeof startSlackStandIn>>
let server: TestServer
let base: string
let agent: Principal
let rita: Principal
let dan: Principal

beforeAll(async () => {
  slack = await startSlackStandIn()
  server = await startServer({
    clock,
    notifications: { publicUrl: 'https://approvals.example.com', slack: { botToken: 'xoxb-test-token', signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } },
  })
  base = server.url.replace(/\/graphql$/, '')
  rita = await createUserWithToken(server, { email: 'rita@example.com', name: 'Rita Reviewer', roleKeys: ['member'] })
  dan = await createUserWithToken(server, { email: 'dan@example.com', name: 'Dan Colleague', roleKeys: ['member'] })
  const linked = await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { slackUserId: "U0RITA001" }) { slackUserId } }`, { id: rita.id }, server.ownerToken)
  expect(linked.data.updateUser.slackUserId).toBe('U0RITA001')
  agent = await createAgentWithToken(server, { name: 'Social agent' })
  await createRule(server, {
    name: 'Posts',
    resourceType: 'AGENT_ACTION',
    actionType: 'post_to_social',
    primaryResolver: { type: 'NAMED_USER', userId: rita.id },
    expiresAfterSeconds: 7200,
  })
  // every member decides these: Rita and Dan both review
  await createRule(server, { name: 'Pages', resourceType: 'AGENT_ACTION', actionType: 'create_landing_page', primaryResolver: { type: 'ROLE', roleKey: 'member' } })
})
afterAll(async () => {
  await server?.destroy()
  await slack?.close()
})

async function ask(actionType = 'post_to_social', params: Record<string, unknown> = { text: 'We are live!', platform: 'x' }, summary = 'Announce the launch'): Promise<{ id: string; dbId: string }> {
  const res = await server.gql(
    `mutation($i: RequestApprovalInput!) { requestApproval(input: $i) { request { id } } }`,
    { i: { resourceType: 'AGENT_ACTION', actionType, params, summary } },
    agent.token,
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  const id = res.data.requestApproval.request.id as string
  return { id, dbId: Buffer.from(id, 'base64').toString().split(':')[1]! }
}

/** Sends what is due; the direct message about the request (by its database id, the buttons' value). */
async function messageAbout(dbId: string) {
  await server.app.notifications.runOnce()
  const posted = slack.of('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(dbId))
  expect(posted).toHaveLength(1)
  return posted[0]!
}

/** A request to the interactivity endpoint, signed as Slack signs it (or with what a test gives instead). */
function interact(payload: object, sign: { secret?: string; timestamp?: number; signature?: string } = {}) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString()
  const timestamp = String(sign.timestamp ?? Math.floor(clock.now().getTime() / 1000))
  const signature = sign.signature ?? `v0=${createHmac('sha256', sign.secret ?? SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`
  return fetch(`${base}/integrations/slack/interactivity`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
    body,
  })
}

const click = (slackUserId: string, action: 'approve' | 'reject', dbId: string) => ({
  type: 'block_actions',
  user: { id: slackUserId },
  trigger_id: `trigger-${dbId}`,
  channel: { id: `D${slackUserId.slice(1)}` },
  container: { type: 'message', channel_id: `D${slackUserId.slice(1)}` },
  actions: [{ action_id: action, block_id: 'decision', value: dbId }],
})

const submitRejection = (slackUserId: string, dbId: string, comment: string) => ({
  type: 'view_submission',
  user: { id: slackUserId },
  view: { callback_id: 'reject_request', private_metadata: dbId, state: { values: { comment: { comment: { type: 'plain_text_input', value: comment } } } } },
})

const STATE = `query($id: ID!) { approvalRequest(id: $id) { status decidedBy { id } decisionComment events { type details } } }`
const state = async (id: string) => (await server.gql(STATE, { id }, server.ownerToken)).data.approvalRequest

/** The chat.update calls of a posted message (by the channel and ts its posting answered). */
const updatesOf = (message: ApiCall) => slack.of('chat.update').filter((c) => c.args.channel === message.response.channel && c.args.ts === message.response.ts)

const buttonsOf = (blocks: any[]) => blocks.find((b) => b.type === 'actions')?.elements ?? []
const textOf = (blocks: any[]) => JSON.stringify(blocks)

describe('Slack messages', () => {
  it('a new request goes to the reviewer with a Slack id as a direct message with Approve and Reject buttons; what the agent wrote cannot mention or link', async () => {
    const { dbId } = await ask('post_to_social', { text: 'Big news <!channel> see <https://evil.example|our bank>', platform: 'x' }, 'Announce <!here> the launch')
    const message = await messageAbout(dbId)
    expect(message.authorization).toBe('Bearer xoxb-test-token')
    expect(message.args.channel).toBe('U0RITA001')
    expect(message.args.text).toBe('Approval needed: Announce <!here> the launch')
    const blocks = message.args.blocks as any[]
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: Announce <!here> the launch', emoji: false } })
    expect(buttonsOf(blocks)).toEqual([
      expect.objectContaining({ type: 'button', action_id: 'approve', style: 'primary', value: dbId, text: expect.objectContaining({ text: 'Approve' }) }),
      expect.objectContaining({ type: 'button', action_id: 'reject', style: 'danger', value: dbId }),
      expect.objectContaining({ type: 'button', url: expect.stringMatching(/^https:\/\/approvals\.example\.com\/#\/inbox\//) }),
    ])
    // mrkdwn parts: who asks, for whom, the action's fields, with &, < and > escaped
    const mrkdwn = blocks.flatMap((b) => [b.text, ...(b.fields ?? [])]).filter((t) => t?.type === 'mrkdwn').map((t) => t.text as string)
    expect(mrkdwn.join('\n')).toContain('*Asked by*\nSocial agent (agent)')
    expect(mrkdwn.join('\n')).toContain('*For*\nOlivia Owner')
    expect(mrkdwn.join('\n')).toContain('*Text*\nBig news &lt;!channel&gt; see &lt;https://evil.example|our bank&gt;')
    expect(mrkdwn.join('\n')).not.toMatch(/<!channel>|<https:\/\/evil/)
    // Dan has no Slack id: nothing for him
    expect(slack.of('chat.postMessage').filter((c) => c.args.channel !== 'U0RITA001')).toEqual([])
  })

  it('a signed Approve click decides as the linked user, and the message shows the outcome instead of the buttons', async () => {
    const { id, dbId } = await ask()
    const message = await messageAbout(dbId)
    const res = await interact(click('U0RITA001', 'approve', dbId))
    expect(res.status).toBe(200)
    const after = await state(id)
    expect(after).toMatchObject({ status: 'APPROVED', decidedBy: { id: rita.id } })
    expect(after.events.at(-1)).toEqual({ type: 'APPROVED', details: { channel: 'SLACK' } })
    // the channel is in the event as it was hashed: the audit log verifies
    expect((await server.gql(`{ verifyAuditLog { ok problem } }`, {}, server.ownerToken)).data.verifyAuditLog).toEqual({ ok: true, problem: null })
    await server.app.notifications.runOnce()
    const [update] = updatesOf(message)
    expect(update).toBeDefined()
    expect(buttonsOf(update!.args.blocks)).toEqual([])
    expect(textOf(update!.args.blocks)).toContain('Approved by Rita Reviewer.')
  })

  it('Reject… opens a dialog; its submission rejects with the comment', async () => {
    const { id, dbId } = await ask()
    const message = await messageAbout(dbId)
    expect((await interact(click('U0RITA001', 'reject', dbId))).status).toBe(200)
    const [dialog] = slack.of('views.open').filter((c) => c.args.trigger_id === `trigger-${dbId}`)
    expect(dialog!.args.view).toMatchObject({ type: 'modal', callback_id: 'reject_request', private_metadata: dbId })
    expect((await state(id)).status).toBe('PENDING')
    const res = await interact(submitRejection('U0RITA001', dbId, 'Not before Monday'))
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
    expect(await state(id)).toMatchObject({ status: 'REJECTED', decidedBy: { id: rita.id }, decisionComment: 'Not before Monday' })
    await server.app.notifications.runOnce()
    expect(textOf(updatesOf(message)[0]!.args.blocks)).toContain('Rejected by Rita Reviewer: Not before Monday')
  })

  it('refuses bad signatures and stale timestamps (401), and members linked to nobody; nothing is decided', async () => {
    const { id, dbId } = await ask()
    await messageAbout(dbId)
    const now = Math.floor(clock.now().getTime() / 1000)
    for (const sign of [{ secret: 'another-secret-0123456789' }, { signature: 'v0=' + '0'.repeat(64) }, { signature: 'garbage' }, { timestamp: now - 301 }, { timestamp: now + 301 }]) {
      const res = await interact(click('U0RITA001', 'approve', dbId), sign)
      expect(res.status, JSON.stringify(sign)).toBe(401)
    }
    // a signature that was right, replayed six minutes later
    const body = new URLSearchParams({ payload: JSON.stringify(click('U0RITA001', 'approve', dbId)) }).toString()
    const signature = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${now}:${body}`).digest('hex')}`
    clock.advance(360)
    const replay = await fetch(`${base}/integrations/slack/interactivity`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(now), 'x-slack-signature': signature },
      body,
    })
    expect(replay.status).toBe(401)
    expect(await replay.text()).toBe('Stale request timestamp.')
    expect((await state(id)).status).toBe('PENDING')

    // signed, but the member is linked to nobody: told so, nothing decided
    const told = slack.of('chat.postEphemeral').length
    expect((await interact(click('U0NOBODY1', 'approve', dbId))).status).toBe(200)
    const ephemeral = slack.of('chat.postEphemeral').slice(told)
    expect(ephemeral).toEqual([expect.objectContaining({ args: expect.objectContaining({ channel: 'D0NOBODY1', user: 'U0NOBODY1', text: expect.stringContaining('not linked') }) })])
    const dialog = await interact(submitRejection('U0NOBODY1', dbId, 'no'))
    expect(await dialog.json()).toEqual({ response_action: 'errors', errors: { comment: expect.stringContaining('not linked') } })
    // a linked member who is not its reviewer is refused by the same checks as the API
    await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { slackUserId: "U0DAN0001" }) { id } }`, { id: dan.id }, server.ownerToken)
    expect((await interact(click('U0DAN0001', 'approve', dbId))).status).toBe(200)
    expect(slack.of('chat.postEphemeral').at(-1)!.args.text).toBe('Not decided: this request is not yours to decide, or no longer exists.')
    expect((await state(id)).status).toBe('PENDING')
    await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { slackUserId: null }) { id } }`, { id: dan.id }, server.ownerToken)
  })

  it('a linked member who is not a reviewer clicks Reject…: no dialog, nothing of the request shown; told only that it is not theirs to decide', async () => {
    const { id, dbId } = await ask('post_to_social', { text: 'Secret launch', platform: 'x' }, 'Announce the secret merger')
    await messageAbout(dbId)
    // Dan may not see the request; Mia (a manager) may see every request, but does not review this one
    const mia = await createUserWithToken(server, { email: 'mia@example.com', name: 'Mia Manager', roleKeys: ['manager'] })
    for (const [user, slackUserId] of [[dan, 'U0DAN0001'], [mia, 'U0MIA0001']] as const) {
      const linked = await server.gql(`mutation($id: ID!, $s: String) { updateUser(id: $id, input: { slackUserId: $s }) { id } }`, { id: user.id, s: slackUserId }, server.ownerToken)
      expect(linked.errors).toBeUndefined()
    }
    const told = slack.of('chat.postEphemeral').length
    for (const member of ['U0DAN0001', 'U0MIA0001']) expect((await interact({ ...click(member, 'reject', dbId), trigger_id: `trigger-${member}` })).status).toBe(200)
    // no dialog opened (it would carry the request's summary)
    expect(slack.of('views.open').filter((c) => c.args.trigger_id === 'trigger-U0DAN0001' || c.args.trigger_id === 'trigger-U0MIA0001')).toEqual([])
    const texts = slack.of('chat.postEphemeral').slice(told).map((c) => [c.args.user, c.args.text])
    expect(texts).toEqual([
      ['U0DAN0001', 'Not decided: this request is not yours to decide, or no longer exists.'],
      ['U0MIA0001', 'Not decided: Only a current reviewer of this request may decide it.'],
    ])
    expect(JSON.stringify(slack.calls.slice(-2))).not.toContain('secret merger')
    expect((await state(id)).status).toBe('PENDING')
    for (const user of [dan, mia]) await server.gql(`mutation($id: ID!) { updateUser(id: $id, input: { slackUserId: null }) { id } }`, { id: user.id }, server.ownerToken)
  })

  it('the message is updated when someone else decides the request in the API; a late click is told so', async () => {
    const { id, dbId } = await ask('create_landing_page', { title: 'Launch page' }, 'Publish the launch page')
    const message = await messageAbout(dbId)
    expect((await decide(server, dan.token, id, 'approveRequest', 'Looks right')).errors).toBeUndefined()
    await server.app.notifications.runOnce()
    const [update] = updatesOf(message)
    expect(update).toBeDefined()
    expect(buttonsOf(update!.args.blocks)).toEqual([])
    expect(textOf(update!.args.blocks)).toContain('Approved by Dan Colleague: Looks right')
    // a click on a copy of the message that was not yet updated
    expect((await interact(click('U0RITA001', 'approve', dbId))).status).toBe(200)
    expect(slack.of('chat.postEphemeral').at(-1)!.args.text).toBe('Already decided: Approved by Dan Colleague: Looks right')
    const late = await interact(submitRejection('U0RITA001', dbId, 'too late'))
    expect(await late.json()).toEqual({ response_action: 'errors', errors: { comment: 'Already decided: Approved by Dan Colleague: Looks right' } })
    expect(await state(id)).toMatchObject({ status: 'APPROVED', decidedBy: { id: dan.id } })
  })

  it('a reviewer who hands the request on sees that it is no longer theirs; a click there decides nothing', async () => {
    // the approval managers take a request handed on by a rule without fallback (not the owner: it is for them)
    await createUserWithToken(server, { email: 'ada@example.com', name: 'Ada Admin', roleKeys: ['admin'] })
    const { id, dbId } = await ask()
    const message = await messageAbout(dbId)
    const handed = await server.gql(`mutation($id: ID!) { escalateRequest(id: $id, reason: "Not my area") { status } }`, { id }, rita.token)
    expect(handed.errors).toBeUndefined()
    await server.app.notifications.runOnce()
    const [update] = updatesOf(message)
    expect(buttonsOf(update!.args.blocks)).toEqual([])
    expect(textOf(update!.args.blocks)).toContain('No longer yours to decide')
    expect((await interact(click('U0RITA001', 'approve', dbId))).status).toBe(200)
    expect(slack.of('chat.postEphemeral').at(-1)!.args.text).toBe('Not decided: Only a current reviewer of this request may decide it.')
    expect((await state(id)).status).toBe('PENDING')
  })

  it('a request that expires, or is decided before its message goes out, sends no buttons', async () => {
    const { id, dbId } = await ask()
    await messageAbout(dbId)
    clock.advance(7201)
    await server.app.scheduler.runOnce()
    expect((await state(id)).status).toBe('EXPIRED')
    await server.app.notifications.runOnce()
    const message = slack.of('chat.postMessage').find((c) => JSON.stringify(c.args.blocks).includes(dbId))!
    expect(textOf(updatesOf(message)[0]!.args.blocks)).toContain('Expired before anyone decided.')

    // decided at once, racing the dispatcher's wake-up: either the message is never posted (the
    // notification is skipped), or it is posted and then updated; never left with live buttons
    const second = await ask()
    await decide(server, rita.token, second.id, 'rejectRequest', 'No')
    await server.app.notifications.runOnce()
    const posted = slack.of('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(second.dbId))
    expect(posted.map((m) => buttonsOf(updatesOf(m).at(-1)?.args.blocks ?? [])).flat()).toEqual([])
    expect(posted.map((m) => textOf(updatesOf(m).at(-1)!.args.blocks))).toEqual(posted.map(() => expect.stringContaining('Rejected by Rita Reviewer: No')))
    const [row] = await server.db.prisma.notification.findMany({ where: { requestId: second.dbId, kind: 'REVIEW', channel: 'SLACK' } })
    expect(row).toMatchObject({ channel: 'SLACK', status: posted.length === 1 ? 'SENT' : 'SKIPPED' })
  })
})
