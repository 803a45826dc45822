// The one-click decision page of an email's link, /decide/<token>: a small page made on the server,
// without script. GET shows the request with Approve and Reject buttons and a comment field and
// changes nothing (mail scanners that follow links decide nothing); POST (form fields `decision`,
// approve or reject, and `comment`) decides as the reviewer the link was made for, through the same
// domain function and checks as approveRequest and rejectRequest, and uses the link up in the same
// transaction. The token in the address is the credential: single use, bound to one reviewer and
// one request, expiring with the request, stored only as its SHA-256; a cross-site form post
// would need it, and Referrer-Policy: no-referrer keeps it from leaking through links.
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { readUserViewer } from '../auth/viewer.js'
import type { ActionTypeRegistry } from '../approvals/catalogue.js'
import { findActionType } from '../approvals/catalogue.js'
import type { Notifier } from '../approvals/notify.js'
import { decide } from '../approvals/requests.js'
import type { Clock } from '../clock.js'
import type { PrismaClient } from '../db.js'
import { ApiError } from '../errors.js'
import type { Logger } from '../logger.js'
import { hashDecisionToken } from '../outbox/notifications.js'
import { inboxLink, outcomeText, REVIEW_INCLUDE, reviewFacts, timeLeft, type ReviewedRequest } from '../outbox/review-facts.js'
import { readBodyWithin } from './body-limit.js'
import { html, trusted, type SafeHtml } from './html.js'

/** A form with a comment of at most 5000 characters, percent-encoded, fits well within this. */
const MAX_FORM_BYTES = 64 * 1024
/** As the API's decision comment. */
const MAX_COMMENT = 5000
/** 32 random bytes in base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/

const STYLE = `
:root { color-scheme: light dark; --fg: #1a1a1a; --muted: #555; --bg: #fff; --line: #d4d4d8; --accent: #1d4ed8; --ok: #166534; --no: #b91c1c; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececec; --muted: #a1a1aa; --bg: #18181b; --line: #3f3f46; --accent: #93b4ff; --ok: #86efac; --no: #fca5a5; } }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 42rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.kicker, .muted { color: var(--muted); margin: 0 0 .25rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); font-weight: 600; }
dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin: 1.5rem 0 .25rem; }
textarea { box-sizing: border-box; width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
.buttons { display: flex; gap: .75rem; margin: 1rem 0; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 6px; border: 0; cursor: pointer; color: #fff; }
button.approve { background: #166534; } button.reject { background: #b91c1c; }
button:focus-visible, a:focus-visible, textarea:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
a { color: var(--accent); }
.outcome { font-size: 1.2rem; font-weight: 600; }
.outcome.ok { color: var(--ok); } .outcome.no { color: var(--no); }
`

/** The page's policy: its one style block (by hash), forms to itself, nothing else at all. */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export interface DecidePageOptions {
  prisma: PrismaClient
  clock: Clock
  notify: Notifier
  log: Logger
  publicUrl: string
  actionTypes?: ActionTypeRegistry
  maxJsonBytes?: number
}

/** Refuses a decision whose link was used up (or ran out) between the page's checks and the decision. */
class LinkSpent extends Error {}

export function createDecidePage(options: DecidePageOptions) {
  const { prisma, clock, log } = options

  function send(res: ServerResponse, status: number, title: string, body: SafeHtml) {
    res.statusCode = status
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.setHeader('content-security-policy', CSP)
    res.setHeader('cache-control', 'no-store')
    res.setHeader('x-robots-tag', 'noindex, nofollow')
    res.end(
      html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${title} · Approvals</title><style>${trusted(STYLE)}</style></head>
<body><main>${body}</main></body></html>`.value,
    )
  }

  const inboxOf = (request: { id: string }) => inboxLink(options.publicUrl, encodeGlobalID('ApprovalRequest', request.id))

  const message = (res: ServerResponse, status: number, title: string, text: string, request?: ReviewedRequest) =>
    send(res, status, title, html`<h1>${title}</h1><p>${text}</p>${request ? html`<p><a href="${inboxOf(request)}">Open the request in the inbox</a></p>` : ''}`)

  /** The link's token row with its request, and whether its reviewer may still use it; an answer already sent when not. */
  async function check(res: ServerResponse, token: string) {
    const link = TOKEN.test(token)
      ? await prisma.decisionToken.findUnique({
          where: { tokenHash: hashDecisionToken(token) },
          include: { user: { select: { id: true, name: true } }, request: { include: REVIEW_INCLUDE } },
        })
      : null
    const now = clock.now()
    if (!link) return void message(res, 404, 'Link not found', 'This decision link is not valid. Open the inbox to see your requests.')
    const { request } = link
    if (link.usedAt) return void message(res, 410, 'Link already used', `This decision link was used already. ${outcomeText(request)}`, request)
    if (request.status !== 'PENDING') return void message(res, 409, 'Already decided', outcomeText(request), request)
    if (link.expiresAt <= now || (request.expiresAt && request.expiresAt <= now)) {
      return void message(res, 410, 'Link expired', 'This decision link has expired.', request)
    }
    const reviewer = await prisma.approvalReviewer.findFirst({ where: { requestId: request.id, userId: link.userId, active: true }, select: { id: true } })
    if (!reviewer) return void message(res, 403, 'Not yours to decide', 'You are no longer a reviewer of this request: it went to someone else, or you have had your say.', request)
    return { link, request, now }
  }

  async function show(res: ServerResponse, token: string) {
    const checked = await check(res, token)
    if (!checked) return
    const { link, request, now } = checked
    const facts = reviewFacts(request, await findActionType(prisma, request.actionType, options.actionTypes))
    const left = timeLeft(facts.expiresAt, now)
    send(
      res,
      200,
      `Approval needed: ${facts.title}`,
      html`<p class="kicker">${facts.requester}${facts.requesterIsAgent ? ' (agent)' : ''} asks for approval</p>
<h1>${facts.title}</h1>
<dl>
<dt>Asked by</dt><dd>${facts.requester}</dd>
<dt>For</dt><dd>${facts.onBehalfOf ?? '—'}</dd>
<dt>Action</dt><dd>${facts.actionDescription} (${facts.actionType})</dd>
<dt>Time left</dt><dd>${left ?? 'no deadline'}</dd>
${facts.ruleName ? html`<dt>Rule</dt><dd>${facts.ruleName}</dd>` : ''}
${facts.stage ? html`<dt>Stage</dt><dd>${facts.stage}</dd>` : ''}
</dl>
<h2>The action</h2>
<dl>${facts.fields.map((f) => html`<dt>${f.label}</dt><dd>${f.value}</dd>`)}</dl>
<form method="post">
<label for="comment">Comment (optional; the agent is told)</label>
<textarea id="comment" name="comment" rows="4" maxlength="${MAX_COMMENT}"></textarea>
<div class="buttons"><button type="submit" name="decision" value="approve" class="approve">Approve</button><button type="submit" name="decision" value="reject" class="reject">Reject</button></div>
</form>
<p class="muted">You decide as ${link.user.name}. <a href="${inboxOf(request)}">Open it in the inbox</a> to edit before approving, or to see its history.</p>`,
    )
  }

  async function decideByLink(req: IncomingMessage, res: ServerResponse, token: string) {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume()
      return message(res, 415, 'Not a form', 'Send the form of the decision page (application/x-www-form-urlencoded).')
    }
    const body = await readBodyWithin(req, res, MAX_FORM_BYTES)
    if (!body) return
    const form = new URLSearchParams(body.toString('utf8'))
    const decision = form.get('decision')
    if (decision !== 'approve' && decision !== 'reject') return message(res, 400, 'No decision', 'Press Approve or Reject.')
    const comment = (form.get('comment') ?? '').trim()
    if (comment.length > MAX_COMMENT) return message(res, 400, 'Comment too long', `A comment has at most ${MAX_COMMENT} characters.`)
    const checked = await check(res, token)
    if (!checked) return
    const { link, request, now } = checked
    const viewer = await readUserViewer(prisma, link.userId, `decision-link:${link.id}`)
    // as approveRequest and rejectRequest require
    if (!viewer?.permissions.has('approval:resolve')) return message(res, 403, 'Not allowed', 'You may no longer decide requests (your roles changed).', request)
    const status = decision === 'approve' ? 'APPROVED' : 'REJECTED'
    let decided
    try {
      decided = await decide(prisma, viewer, request.id, { status, comment: comment || null }, now, {
        maxJsonBytes: options.maxJsonBytes,
        actionTypes: options.actionTypes,
        via: {
          channel: 'EMAIL',
          before: async (tx) => {
            const { count } = await tx.decisionToken.updateMany({ where: { id: link.id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } })
            if (count === 0) throw new LinkSpent()
          },
        },
      })
    } catch (err) {
      if (err instanceof LinkSpent) return message(res, 410, 'Link already used', 'This decision link was used already, or has just expired.', request)
      if (!(err instanceof ApiError)) throw err
      const current = await prisma.approvalRequest.findUnique({ where: { id: request.id }, include: REVIEW_INCLUDE })
      switch (err.extensions.code) {
        case 'CONFLICT':
          return message(res, 409, 'Already decided', current && current.status !== 'PENDING' ? outcomeText(current) : err.message, current ?? request)
        case 'FORBIDDEN':
          return message(res, 403, 'Not yours to decide', err.message, request)
        case 'NOT_FOUND':
          return message(res, 404, 'Request not found', err.message)
        default:
          return message(res, 400, 'Not decided', err.message, request)
      }
    }
    await options.notify.changed(request.id)
    const after = decided.request
    const done =
      after.status === 'APPROVED'
        ? { title: 'Approved', text: 'Approved. The agent is told, and goes ahead.', tone: 'ok' }
        : after.status === 'REJECTED'
          ? { title: 'Rejected', text: 'Rejected. The agent is told, with your comment.', tone: 'no' }
          : {
              title: 'Approval counted',
              text: after.stage > request.stage ? `Your approval is counted: stage ${after.stage} decides now.` : 'Your approval is counted; the request waits for the other approvals it needs.',
              tone: 'ok',
            }
    send(
      res,
      200,
      done.title,
      html`<p class="outcome ${done.tone}" role="status">${done.text}</p><h1>${reviewFacts(request, undefined).title}</h1><p><a href="${inboxOf(request)}">Open the request in the inbox</a></p>`,
    )
  }

  /** Serves /decide/<token>: GET (and HEAD) shows, POST decides. */
  return function serveDecidePage(req: IncomingMessage, res: ServerResponse, token: string): void {
    const work =
      req.method === 'GET' || req.method === 'HEAD'
        ? show(res, token)
        : req.method === 'POST'
          ? decideByLink(req, res, token)
          : Promise.resolve(void (res.setHeader('allow', 'GET, HEAD, POST'), message(res, 405, 'Not allowed', 'Open the link, then press Approve or Reject.')))
    work.catch((err) => {
      log.error({ err }, 'decision page failed')
      if (!res.headersSent) message(res, 500, 'Something went wrong', 'The decision was not recorded. Try again, or use the inbox.')
      else res.end()
    })
  }
}
