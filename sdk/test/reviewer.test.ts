// reviewer(): an AI reviewer decides the requests a rule hands to it (AGENT resolver), and can
// hand one on to the rule's fallback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type TestServer } from '../../server/test/harness.js'
import { ApprovalRejectedError, createApprovals, type Approvals, type Reviewer, type ReviewDecision, type ReviewRequest } from '../src/index.js'
import { ask, createAgent, createOwner, deferred, email, gatedModule, readRequest, readReview, type Principal } from './helpers.js'

let server: TestServer
let fallback: Principal, bot: Principal, agent: Principal
let module: string
let agentClient: Approvals, botClient: Approvals
let reviewer: Reviewer
const decided = new Map<string, { resolve: () => void }>()
const seen: ReviewRequest[] = []

/** The bot's policy: the subject says what to do. */
function decide(request: ReviewRequest): ReviewDecision {
  seen.push(request)
  const subject = String(request.params.subject)
  if (subject.includes('reject')) return { decision: 'reject', comment: 'Discounts need a human.' }
  if (subject.includes('escalate')) return { decision: 'escalate', reason: 'Not sure about this one.' }
  return { decision: 'approve', comment: 'Looks fine.' }
}

/** Resolves once the bot's decision on `id` was applied. */
function decisionOn(id: string) {
  const d = deferred()
  decided.set(id, d)
  return d.promise
}

beforeAll(async () => {
  server = await startServer()
  fallback = await createOwner(server, 'Fiona Fallback')
  const boss = await createOwner(server, 'Boss')
  // the bot is someone else's: a reviewer agent never reviews requests of an agent with its owner
  const quality = await createOwner(server, 'Quinn Quality')
  bot = await createAgent(server, quality.id, 'Review Bot')
  agent = await createAgent(server, boss.id, 'Sales Agent')
  module = await gatedModule(server, fallback.id, {
    primaryResolver: { type: 'AGENT', agentId: bot.id },
    fallbackResolver: { type: 'NAMED_USER', userId: fallback.id },
  })
  agentClient = createApprovals({ url: server.url, token: agent.token })
  botClient = createApprovals({ url: server.url, token: bot.token })
})
afterAll(async () => {
  await reviewer?.stop()
  await Promise.all([agentClient?.close(), botClient?.close()])
  await server?.destroy()
})

describe('reviewer()', () => {
  it('decides what was pending when it started, then each request as it arrives', async () => {
    const pending = await ask(server, agent, module, 'approve early')
    const early = decisionOn(pending)
    const errors: unknown[] = []
    const listening = server.subscribed('approvalInbox')
    reviewer = botClient.reviewer({
      decide,
      onDecided: (request) => decided.get(request.id)?.resolve(),
      onError: (e) => errors.push(e),
    })
    await Promise.all([listening, early])
    expect(await readRequest(server, agent.token, pending)).toMatchObject({ status: 'APPROVED', decidedBy: { name: 'Review Bot' }, decisionComment: 'Looks fine.' })
    expect(seen.find((r) => r.id === pending)).toMatchObject({ actionType: 'send_email', params: email('approve early'), requester: { name: 'Sales Agent' } })
    expect(errors).toEqual([])
  })

  it('approving: the gated call runs, and the request is APPROVED by the agent', async () => {
    const send = agentClient.gate('send_email', () => 'sent', { module })
    expect(await send(email('approve me'))).toBe('sent')
    const request = seen.find((r) => r.params.subject === 'Quote approve me')!
    expect(await readRequest(server, agent.token, request.id)).toMatchObject({
      status: 'APPROVED',
      decidedBy: { name: 'Review Bot' },
      execution: { status: 'SUCCEEDED', result: 'sent' },
    })
  })

  it('rejecting: the gated call throws ApprovalRejectedError with the comment', async () => {
    let ran = false
    const send = agentClient.gate('send_email', () => void (ran = true), { module })
    const error = await send(email('reject me')).then(() => null, (e: unknown) => e)
    expect(error).toBeInstanceOf(ApprovalRejectedError)
    expect(error).toMatchObject({ reviewer: 'Review Bot', comment: 'Discounts need a human.' })
    expect(ran).toBe(false)
  })

  it('escalating: the fallback user becomes the reviewer', async () => {
    const listening = server.subscribed('approvalInbox')
    const fiona = server.ws(fallback.token)
    const inbox = new Promise<string>((resolve, reject) =>
      fiona.subscribe<{ approvalInbox: { type: string; request: { id: string } } }>(
        { query: 'subscription { approvalInbox { type request { id } } }' },
        { next: (r) => r.data?.approvalInbox.type === 'ADDED' && resolve(r.data.approvalInbox.request.id), error: reject, complete: () => {} },
      ),
    )
    await listening
    const id = await ask(server, agent, module, 'escalate me')
    expect(await inbox).toBe(id)
    expect(await readReview(server, id)).toMatchObject({ status: 'PENDING', escalated: true, reviewers: [{ name: 'Fiona Fallback' }] })
  })
})
