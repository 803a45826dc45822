// Slack's interactivity endpoint, /integrations/slack/interactivity: the clicks on a request
// message's buttons, and the rejection dialog's submissions. Each request must carry Slack's
// signature (v0, HMAC-SHA256 with the app's signing secret, timestamp within five minutes): 401
// otherwise, and nothing is read. A click decides as the user whose slackUserId is the clicking
// member, through the same domain function and checks as approveRequest and rejectRequest; a
// member linked to nobody decides nothing, and Reject…'s dialog (which shows the request's summary)
// opens only for a current reviewer. Slack wants an answer within 3 s: decisions are quick,
// so the answer comes after the decision, and a refusal is told to the member (an ephemeral
// message, or the dialog's error), since Slack shows nothing of an HTTP error.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readUserViewer, type Viewer } from '../auth/viewer.js'
import type { ActionTypeRegistry } from '../approvals/catalogue.js'
import type { Notifier } from '../approvals/notify.js'
import { decide, visibleTo } from '../approvals/requests.js'
import type { Clock } from '../clock.js'
import type { PrismaClient } from '../db.js'
import { ApiError } from '../errors.js'
import type { Logger } from '../logger.js'
import { outcomeText, REVIEW_INCLUDE } from '../outbox/review-facts.js'
import { rejectDialog, SLACK_ACTIONS, verifySlackSignature, type Slack } from '../outbox/slack.js'
import { readBodyWithin } from './body-limit.js'

/** Slack's interaction payloads (a message with its blocks, a dialog with its state) stay well below this. */
const MAX_PAYLOAD_BYTES = 1024 * 1024
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** As the API's decision comment. */
const MAX_COMMENT = 5000

const NOT_LINKED = 'Your Slack account is not linked to anyone in Approvals, so nothing was decided. Ask an admin to add your Slack member ID to your user.'
const NO_PERMISSION = 'You may not decide requests (none of your roles allows it), so nothing was decided.'
/** The API's answer to someone who may not even see the request. */
const NOT_YOURS = 'Not decided: this request is not yours to decide, or no longer exists.'

export interface SlackInteractivityOptions {
  prisma: PrismaClient
  clock: Clock
  notify: Notifier
  log: Logger
  slack: Slack
  signingSecret: string
  actionTypes?: ActionTypeRegistry
  maxJsonBytes?: number
}

/** The parts of Slack's payloads (block_actions, view_submission) read here. */
interface Interaction {
  type?: string
  user?: { id?: string }
  trigger_id?: string
  channel?: { id?: string }
  container?: { channel_id?: string }
  actions?: { action_id?: string; value?: string }[]
  view?: { callback_id?: string; private_metadata?: string; state?: { values?: Record<string, Record<string, { value?: string | null }>> } }
}

export function createSlackInteractivity(options: SlackInteractivityOptions) {
  const { prisma, clock, log, slack } = options

  const reply = (res: ServerResponse, status: number, body?: unknown) => {
    res.statusCode = status
    if (body === undefined) return void res.end()
    res.setHeader('content-type', typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8')
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  /** The user a Slack member is linked to (User.slackUserId), as a viewer; null for a member linked to nobody. */
  async function userOf(slackUserId: string | undefined) {
    if (!slackUserId) return null
    const user = await prisma.user.findUnique({ where: { slackUserId }, select: { id: true } })
    return user ? readUserViewer(prisma, user.id, `slack:${slackUserId}`) : null
  }

  /**
   * The pending request, when the viewer is one of its current reviewers; else why not, in words
   * for them, as the API would answer: nothing of a request (not even its summary, in the reject
   * dialog) is shown to a member before this holds.
   */
  async function reviewedBy(viewer: Viewer, requestId: string) {
    if (!viewer.permissions.has('approval:resolve')) return { refused: NO_PERMISSION }
    const request = await prisma.approvalRequest.findFirst({ where: { AND: [{ id: requestId }, visibleTo(viewer)] }, include: REVIEW_INCLUDE })
    if (!request) return { refused: NOT_YOURS }
    if (request.status !== 'PENDING') return { refused: `Already decided: ${outcomeText(request)}` }
    if (request.expiresAt && request.expiresAt <= clock.now()) return { refused: 'Not decided: This request has expired.' }
    const reviewer = await prisma.approvalReviewer.findFirst({ where: { requestId, active: true, userId: viewer.id }, select: { id: true } })
    if (!reviewer) return { refused: 'Not decided: Only a current reviewer of this request may decide it.' }
    return { request }
  }

  /** Decides as the member's user; null when decided, else why not, in words for them. */
  async function decideAs(slackUserId: string | undefined, requestId: string, status: 'APPROVED' | 'REJECTED', comment: string | null): Promise<string | null> {
    const viewer = await userOf(slackUserId)
    if (!viewer) return NOT_LINKED
    if (!viewer.permissions.has('approval:resolve')) return NO_PERMISSION
    try {
      await decide(prisma, viewer, requestId, { status, comment }, clock.now(), { maxJsonBytes: options.maxJsonBytes, actionTypes: options.actionTypes, via: { channel: 'SLACK' } })
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      if (err.extensions.code === 'CONFLICT') {
        const current = await prisma.approvalRequest.findUnique({ where: { id: requestId }, include: REVIEW_INCLUDE })
        if (current && current.status !== 'PENDING') return `Already decided: ${outcomeText(current)}`
      }
      if (err.extensions.code === 'NOT_FOUND') return NOT_YOURS
      return `Not decided: ${err.message}`
    }
    await options.notify.changed(requestId)
    return null
  }

  async function tell(payload: Interaction, text: string) {
    const channel = payload.channel?.id ?? payload.container?.channel_id
    if (!channel || !payload.user?.id) return
    await slack.tell(channel, payload.user.id, text).catch((err) => log.warn({ err }, 'could not tell a Slack member why their click did nothing'))
  }

  async function onBlockAction(payload: Interaction, res: ServerResponse) {
    const action = payload.actions?.[0]
    const requestId = action?.value ?? ''
    if ((action?.action_id !== SLACK_ACTIONS.approve && action?.action_id !== SLACK_ACTIONS.reject) || !UUID.test(requestId)) return reply(res, 200)
    if (action.action_id === SLACK_ACTIONS.approve) {
      const refused = await decideAs(payload.user?.id, requestId, 'APPROVED', null)
      if (refused) await tell(payload, refused)
      return reply(res, 200)
    }
    // Reject…: a dialog asks why (its submission decides); refused at once when it could not
    const viewer = await userOf(payload.user?.id)
    const reviewed = viewer ? await reviewedBy(viewer, requestId) : { refused: NOT_LINKED }
    if (!reviewed.request) await tell(payload, reviewed.refused)
    else if (payload.trigger_id) await slack.openDialog(payload.trigger_id, rejectDialog(requestId, reviewed.request.summary ?? reviewed.request.actionType))
    reply(res, 200)
  }

  async function onDialogSubmission(payload: Interaction, res: ServerResponse) {
    const view = payload.view
    if (view?.callback_id !== SLACK_ACTIONS.rejectDialog) return reply(res, 200)
    const requestId = view.private_metadata ?? ''
    const comment = (view.state?.values?.[SLACK_ACTIONS.commentBlock]?.[SLACK_ACTIONS.commentBlock]?.value ?? '').trim()
    const refuse = (text: string) => reply(res, 200, { response_action: 'errors', errors: { [SLACK_ACTIONS.commentBlock]: text.slice(0, 1000) } })
    if (!UUID.test(requestId)) return refuse('This dialog names no request.')
    if (comment.length > MAX_COMMENT) return refuse(`At most ${MAX_COMMENT} characters.`)
    const refused = await decideAs(payload.user?.id, requestId, 'REJECTED', comment || null)
    // an empty answer closes the dialog
    return refused ? refuse(refused) : reply(res, 200)
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return reply(res, 405, 'POST only.')
    }
    const body = await readBodyWithin(req, res, MAX_PAYLOAD_BYTES)
    if (!body) return
    const header = (name: string) => {
      const value = req.headers[name]
      return Array.isArray(value) ? undefined : value
    }
    const verdict = verifySlackSignature(options.signingSecret, { timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature') }, body, clock.now())
    if (verdict !== 'ok') {
      log.warn({ verdict }, 'Slack interaction refused: its signature does not hold')
      return reply(res, 401, verdict === 'stale' ? 'Stale request timestamp.' : 'Invalid signature.')
    }
    let payload: Interaction
    try {
      payload = JSON.parse(new URLSearchParams(body.toString('utf8')).get('payload') ?? '') as Interaction
    } catch {
      return reply(res, 400, 'Expected a form with a JSON payload.')
    }
    if (payload?.type === 'block_actions') return onBlockAction(payload, res)
    if (payload?.type === 'view_submission') return onDialogSubmission(payload, res)
    reply(res, 200)
  }

  /** Serves POST /integrations/slack/interactivity. */
  return function serveSlackInteractivity(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((err) => {
      log.error({ err }, 'Slack interaction failed')
      if (!res.headersSent) reply(res, 500, 'Unexpected error.')
      else res.end()
    })
  }
}
