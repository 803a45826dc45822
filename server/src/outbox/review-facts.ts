// What a person asked to decide a request is told about it, wherever they read it (an email, the
// decision page, a Slack message): what is asked, by whom, for whom, the action's fields as a
// reviewer reads them, and the time left. Made from the stored request, so nothing the agent sends
// chooses what is shown or hides part of it; each channel escapes it for its own format.
import { encodeGlobalID } from '@pothos/plugin-relay'
import type { Prisma } from '../db.js'
import { approvedParamsOf, requestRule } from '../approvals/requests.js'
import type { ActionType } from '../approvals/catalogue.js'

/** The relations of a request that the facts name (one query with the request). */
export const REVIEW_INCLUDE = {
  requesterAgent: { select: { name: true } },
  requesterUser: { select: { name: true } },
  onBehalfOf: { select: { name: true } },
  decidedByUser: { select: { name: true } },
  decidedByAgent: { select: { name: true } },
} satisfies Prisma.ApprovalRequestInclude

export type ReviewedRequest = Prisma.ApprovalRequestGetPayload<{ include: typeof REVIEW_INCLUDE }>

export interface ActionField {
  label: string
  value: string
}

export interface ReviewFacts {
  /** The request's global ID, as the API and the inbox name it. */
  globalId: string
  /** One line: the requester's summary, or the action type's description. */
  title: string
  actionType: string
  actionDescription: string
  /** Who asks: the agent (or user) that made the request. */
  requester: string
  requesterIsAgent: boolean
  /** The person the action is for. */
  onBehalfOf: string | null
  ruleName: string | null
  /** "Stage 2 of 3 (Legal)", when the rule has several stages. */
  stage: string | null
  /** The action as it would run (a previous stage's edit included), field by field. */
  fields: ActionField[]
  expiresAt: Date | null
}

/** The longest a value is shown in full; past it, it is cut with a note that says so (the inbox shows all of it). */
const MAX_VALUE_CHARS = 20_000

/** Control characters and line breaks: never in a line that becomes a header or a title. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g

/** Text made into one line of at most `max` characters: safe for an email subject or a message's header. */
export function oneLine(text: string, max: number): string {
  const line = text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim()
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`
}

/** "send_email" or "mediaUrls" -> "Send email", "Media urls". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '(empty)'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return value.map(String).join(', ')
  return JSON.stringify(value, null, 2)
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters: open the request in the inbox to read all of it)`
}

/**
 * The action's params as fields, in the order of its schema's properties (their `title` when
 * they have one), then any others as given. Params that are not an object are one field.
 */
export function actionFields(params: unknown, schema: Record<string, unknown> | undefined): ActionField[] {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return [{ label: 'Params', value: cut(formatValue(params), MAX_VALUE_CHARS) }]
  const given = params as Record<string, unknown>
  const properties = (schema?.properties ?? {}) as Record<string, { title?: unknown }>
  const ordered = [...Object.keys(properties).filter((k) => k in given), ...Object.keys(given).filter((k) => !(k in properties))]
  return ordered.map((key) => {
    const title = properties[key]?.title
    return { label: typeof title === 'string' && title.trim() ? oneLine(title, 80) : humanize(key), value: cut(formatValue(given[key]), MAX_VALUE_CHARS) }
  })
}

/** "2 days 3 hours", "45 minutes", "less than a minute", "expired"; null without a deadline. */
export function timeLeft(expiresAt: Date | null, now: Date): string | null {
  if (!expiresAt) return null
  const seconds = Math.floor((expiresAt.getTime() - now.getTime()) / 1000)
  if (seconds <= 0) return 'expired'
  if (seconds < 60) return 'less than a minute'
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return plural(minutes, 'minute')
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return [plural(hours, 'hour'), minutes % 60 ? plural(minutes % 60, 'minute') : ''].filter(Boolean).join(' ')
  const days = Math.floor(hours / 24)
  return [plural(days, 'day'), hours % 24 ? plural(hours % 24, 'hour') : ''].filter(Boolean).join(' ')
}

/** The facts of a request for a reviewer; `action` is its action type (undefined once deleted: the fields then come in the order given). */
export function reviewFacts(request: ReviewedRequest, action: ActionType | undefined): ReviewFacts {
  const rule = requestRule(request)
  const description = action?.description ?? humanize(request.actionType)
  const stageName = request.stage > 1 ? rule.nextStages[request.stage - 2]?.name : null
  return {
    globalId: encodeGlobalID('ApprovalRequest', request.id),
    title: oneLine(request.summary?.trim() || description, 200),
    actionType: request.actionType,
    actionDescription: description,
    requester: request.requesterAgent?.name ?? request.requesterUser?.name ?? 'Unknown',
    requesterIsAgent: request.requesterAgentId !== null,
    onBehalfOf: request.onBehalfOf?.name ?? null,
    ruleName: rule.name ?? null,
    stage: request.stageCount > 1 ? `Stage ${request.stage} of ${request.stageCount}${stageName ? ` (${stageName})` : ''}` : null,
    fields: actionFields(approvedParamsOf(request), action?.paramsSchema),
    expiresAt: request.expiresAt,
  }
}

/** What became of a request that is no longer pending, in a sentence ("Approved by Grace Hopper: fine."). */
export function outcomeText(request: ReviewedRequest): string {
  const by = request.decidedByUser?.name ?? request.decidedByAgent?.name
  const comment = request.decisionComment ? `: ${oneLine(request.decisionComment, 500)}` : '.'
  switch (request.status) {
    case 'APPROVED':
      return by ? `Approved by ${by}${comment}` : `Approved automatically${comment}`
    case 'REJECTED':
      return `Rejected by ${by ?? 'a reviewer'}${comment}`
    case 'EXPIRED':
      return 'Expired before anyone decided.'
    case 'CANCELLED':
      return `Withdrawn${comment}`
    case 'PENDING':
      return 'Pending.'
  }
}

/** The inbox's address of a request (the inbox routes in the URL's fragment: #/inbox/<id>). */
export const inboxLink = (publicUrl: string, globalId: string) => `${publicUrl}/#/inbox/${encodeURIComponent(globalId)}`
