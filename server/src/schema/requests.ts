import DataLoader from 'dataloader'
import { z } from 'zod'
import { encodeGlobalID } from '@pothos/plugin-relay'
import { principalColumn } from '../auth/viewer.js'
import { recordFieldChanges, type RecordFieldChange as RecordFieldChangeRow } from '../approvals/records.js'
import * as requests from '../approvals/requests.js'
import { builder } from '../builder.js'
import { ApiError, forbidden, notFound } from '../errors.js'
import type { Context } from '../context.js'
import type { Prisma } from '../db.js'
import type { ApprovalRequest as ApprovalRequestRow } from '../generated/prisma/client.js'
import { page } from './cost.js'
import { Principal } from './directory.js'
import { ApprovalEventType, ApprovalStatus, ResolverType, ResourceType } from './enums.js'
import { parseId, parseOptionalId } from './ids.js'
import { recordsReadableBy } from './records.js'
import { ApprovalRule, seesRules, shown } from './rules.js'
import { answerRequest, nothing, reloadRequest } from './shared.js'

const defaultLimits: requests.RequestSettings = { maxJsonBytes: requests.DEFAULT_MAX_JSON_BYTES }

/** The database id in a User's global ID (as record mutation params hold owners), or null. */
function userIdOf(value: unknown): string | null {
  if (typeof value !== 'string') return null
  try {
    const { typename, id } = parseId(value, ['User'], 'params.ownerId')
    return typename === 'User' ? id : null
  } catch {
    return null
  }
}

/** Whether the viewer reviews or reviewed a request with these reviewer rows. */
const reviews = (ctx: Context, reviewers: { userId: string | null; agentId: string | null }[]) =>
  !!ctx.viewer && reviewers.some((r) => (ctx.viewer!.kind === 'user' ? r.userId : r.agentId) === ctx.viewer!.id)

/**
 * A request's reviewers, past and present, as every field that needs them selects them: Pothos
 * merges equal selections of a relation into the parent's query, and loads differing ones
 * separately, per request.
 */
const REVIEWERS = {
  reviewers: { orderBy: { id: 'asc' }, select: { active: true, userId: true, agentId: true, user: true, agent: true } },
} satisfies Prisma.ApprovalRequestSelect

/** Per operation: which requests its viewer reviews or reviewed, asked in one query per tick. */
const reviewedBy = new WeakMap<Context, DataLoader<string, boolean>>()

function reviewsRequest(ctx: Context, requestId: string): Promise<boolean> {
  let loader = reviewedBy.get(ctx)
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const rows = await ctx.prisma.approvalReviewer.findMany({
        where: { requestId: { in: [...ids] }, ...principalColumn(ctx.viewer!) },
        select: { requestId: true },
      })
      const found = new Set(rows.map((r) => r.requestId))
      return ids.map((id) => found.has(id))
    })
    reviewedBy.set(ctx, loader)
  }
  return loader.load(requestId)
}

type ReviewedRow = Pick<ApprovalRequestRow, 'id' | 'requesterKey' | 'onBehalfOfId'> & { reviewers?: { userId: string | null; agentId: string | null }[] }

/**
 * Whether the viewer may see how a request is reviewed (who reviews it, by which resolver, how
 * many approvals, its votes, escalations and edits under review): approval managers and viewers,
 * and its reviewers, past and present. The requester and the person it is for, when not
 * reviewers, see its status, the decision and its comment, and the rule's id, name and
 * description. Anyone else who sees a request (visibleTo) is one of its reviewers, so only the
 * requester's side needs a look at the reviewer rows (and an agent never reviews its own).
 */
async function seesReview(ctx: Context, r: ReviewedRow): Promise<boolean> {
  const viewer = ctx.viewer
  if (!viewer) return false
  if (seesRules(ctx)) return true
  if (r.reviewers) return reviews(ctx, r.reviewers)
  const requesterSide = r.requesterKey === viewer.id || (viewer.kind === 'user' && r.onBehalfOfId === viewer.id)
  if (!requesterSide) return true
  return viewer.kind === 'user' && reviewsRequest(ctx, r.id)
}

const REVIEW_SCOPES = ['approval:manage', 'approval:view', 'reviewer']
const notTheRequesters = () =>
  forbidden("Not allowed: how a request is reviewed is shown to its reviewers and to approval managers and viewers; its requester sees its status and decision.")

/** A field about how a request is reviewed: FORBIDDEN to its requester's side (see seesReview). */
const REVIEW = {
  authScopes: async (r: ReviewedRow, _args: object, ctx: Context) => ((await seesReview(ctx, r)) ? { authenticated: true } : { permission: 'approval:view' as const }),
  unauthorizedError: notTheRequesters,
  directives: [{ name: 'auth' as const, args: { anyOf: REVIEW_SCOPES } }],
}

/**
 * A field that, while the request is pending with an edit under review, is about its review: the
 * requester's side is answered as before any edit (its `unauthorizedResolver`) until the decision.
 */
const REVIEWED_WHILE_PENDING = {
  authScopes: async (r: ReviewedRow & Pick<ApprovalRequestRow, 'status' | 'edited'>, _args: object, ctx: Context) =>
    r.status !== 'PENDING' || !r.edited || (await seesReview(ctx, r)) ? { authenticated: true } : { permission: 'approval:view' as const },
  directives: [{ name: 'auth' as const, args: { anyOf: ['approval:manage', 'approval:view', 'reviewer', 'requester once decided'] } }],
}

/** The events the requester's side sees: its status and the decision, and how running it goes. */
const REQUESTER_EVENTS = ['REQUESTED', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'EXECUTION_STARTED', 'EXECUTION_RETRYING', 'EXECUTED', 'EXECUTION_FAILED'] as const

/** A request's events as the viewer may see them: all of them for those who see its review, else REQUESTER_EVENTS. */
function eventsVisibleTo(ctx: Context): Prisma.ApprovalEventWhereInput {
  if (!ctx.viewer) return { id: { in: [] } }
  if (seesRules(ctx)) return {}
  return { OR: [{ type: { in: [...REQUESTER_EVENTS] } }, { request: { reviewers: { some: principalColumn(ctx.viewer) } } }] }
}

export const ApprovalEventRef = builder.prismaObject('ApprovalEvent', {
  fields: (t) => ({
    type: t.expose('type', { type: ApprovalEventType }),
    actor: t.field({
      type: Principal,
      nullable: true,
      description: 'Who acted; null for the service itself (deadlines, automatic approval, execution).',
      select: { actorUser: true, actorAgent: true },
      resolve: (e) => e.actorUser ?? e.actorAgent,
    }),
    comment: t.exposeString('comment', { nullable: true }),
    details: t.expose('details', { type: 'JSON', nullable: true, description: "Structured facts of the event: an EXECUTED event's result, an attempt's number and error." }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
})

builder.prismaObject('ApprovalVote', {
  description: 'An approval counted towards a stage of a request.',
  fields: (t) => ({
    stage: t.exposeInt('stage'),
    reviewer: t.field({
      type: Principal,
      select: { user: true, agent: true },
      resolve: (v) => (v.user ?? v.agent)!,
    }),
    comment: t.exposeString('comment', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
})

export const ApprovalRequest = builder.prismaNode('ApprovalRequest', {
  id: { field: 'id' },
  nullable: true,
  // node(id:) shows a request only to those who may see it
  findUnique: (id, ctx) => ({ id, AND: [ctx.viewer ? requests.visibleTo(ctx.viewer) : { id: { in: [] } }] }),
  fields: (t) => ({
    status: t.expose('status', { type: ApprovalStatus }),
    resourceType: t.expose('resourceType', { type: ResourceType }),
    actionType: t.exposeString('actionType'),
    params: t.expose('params', { type: 'JSON' }),
    approvedParams: t.field({
      type: 'JSON',
      nullable: true,
      description:
        "The parameters as approved: the request's own, or a reviewer's edit. Null until approved, except while a reviewer's edit in an earlier stage is what the later stages review (shown to those who see the review; the requester sees null until the decision).",
      ...REVIEWED_WHILE_PENDING,
      unauthorizedResolver: () => null,
      resolve: (r) => (r.status === 'APPROVED' || (r.status === 'PENDING' && r.edited) ? requests.approvedParamsOf(r) : null),
    }),
    edited: t.exposeBoolean('edited', {
      description:
        "Whether a reviewer changed the params (see approvedParams, and the EDITED event). While pending, the requester sees false until the decision.",
      ...REVIEWED_WHILE_PENDING,
      unauthorizedResolver: () => false,
    }),
    stage: t.exposeInt('stage', { description: 'The stage being decided now, from 1.', ...REVIEW }),
    stageCount: t.exposeInt('stageCount', REVIEW),
    requiredApprovals: t.exposeInt('requiredApprovals', { description: 'Approvals the current stage needs in all.', ...REVIEW }),
    votes: t.relation('votes', {
      description: 'The approvals counted so far, in every stage, in the order given.',
      query: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
      ...REVIEW,
    }),
    module: t.exposeString('module', { nullable: true }),
    recordId: t.string({
      nullable: true,
      description: "As the requester gave it; for a record mutation, the record's ID (once an approved create_record has made it).",
      // the domain keeps database ids; the record a create_record made is named here, at the edge
      resolve: (r) => r.recordId ?? (r.resourceType === 'RECORD_MUTATION' && r.recordRefId ? encodeGlobalID('Record', r.recordRefId) : null),
    }),
    summary: t.exposeString('summary', { nullable: true }),
    context: t.expose('context', { type: 'JSON', nullable: true }),
    rule: t.field({
      type: ApprovalRule,
      nullable: true,
      description:
        "The rule as it was when it matched; later edits do not change it. Its conditions, resolvers and thresholds are shown to approval managers and viewers and to the request's reviewers; others see its id, name and description.",
      select: { id: true, requesterKey: true, onBehalfOfId: true, ruleSnapshot: true, ...REVIEWERS },
      resolve: async (r, _args, ctx) => shown(requests.requestRule(r), await seesReview(ctx, r)),
    }),
    conditionError: t.exposeString('conditionError', {
      nullable: true,
      description: "Why the rule's conditions could not be evaluated, when they could not: the rule then gated the action (fail closed). Shown to those who see the rule's detail; null for others.",
      ...REVIEW,
      unauthorizedResolver: () => null,
    }),
    proposedOwner: t.prismaField({
      type: 'User',
      nullable: true,
      description:
        "For a record mutation that sets the record's owner (params.ownerId): that user, so that a reviewer sees an ownership change. Null when the mutation leaves the owner alone or removes it.",
      select: { resourceType: true, params: true },
      resolve: (query, r, _args, ctx) => {
        const ownerId = r.resourceType === 'RECORD_MUTATION' ? userIdOf((r.params as { ownerId?: unknown } | null)?.ownerId) : null
        return ownerId ? ctx.prisma.user.findUnique({ ...query, where: { id: ownerId } }) : nothing(query)
      },
    }),
    recordChanges: t.field({
      type: [RecordFieldChange],
      nullable: true,
      description:
        "For an update_record request: each field its data names, with the record's value now and the value it would have after the change (as approved, once approved). Null for other requests, and for those who may not read the record (the same rule as `record`).",
      select: { recordRefId: true, actionType: true, params: true, approvedParams: true, edited: true, status: true, ...REVIEWERS },
      resolve: async (r, _args, ctx) => {
        if (r.actionType !== 'update_record' || !r.recordRefId) return null
        const record = await ctx.prisma.record.findUnique({ where: await shownRecord(ctx, r.recordRefId, r.reviewers), select: { data: true } })
        if (!record) return null
        const params = (r.status === 'APPROVED' ? requests.approvedParamsOf(r) : r.params) as { data?: unknown } | null
        return recordFieldChanges(record.data, params?.data)
      },
    }),
    record: t.prismaField({
      type: 'Record',
      nullable: true,
      description:
        'The record the request concerns: the one to update, or the one created once an approved create_record has run. Shown to its reviewers, approval viewers, and those who may read the record now.',
      select: { recordRefId: true, ...REVIEWERS },
      // findUnique calls of one tick are batched into one query by Prisma, so lists stay cheap
      resolve: async (query, r, _args, ctx) =>
        r.recordRefId ? ctx.prisma.record.findUnique({ ...query, where: await shownRecord(ctx, r.recordRefId, r.reviewers) }) : nothing(query),
    }),
    requester: t.field({
      type: Principal,
      select: { requesterUser: true, requesterAgent: true },
      resolve: (r) => (r.requesterUser ?? r.requesterAgent)!,
    }),
    onBehalfOf: t.relation('onBehalfOf', { nullable: true }),
    resolverType: t.expose('resolverType', {
      type: ResolverType,
      description: "The resolver the request is assigned to now: the rule's primary, or its fallback once escalated.",
      ...REVIEW,
    }),
    escalated: t.exposeBoolean('escalated', REVIEW),
    reviewers: t.field({
      type: [Principal],
      description: 'Who may decide the request now; nobody once it is final.',
      ...REVIEW,
      select: { status: true, ...REVIEWERS },
      resolve: (r) => (r.status === 'PENDING' ? r.reviewers.filter((x) => x.active).map((x) => (x.user ?? x.agent)!) : []),
    }),
    decidedBy: t.field({
      type: Principal,
      nullable: true,
      select: { decidedByUser: true, decidedByAgent: true },
      resolve: (r) => r.decidedByUser ?? r.decidedByAgent,
    }),
    decisionComment: t.exposeString('decisionComment', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    events: t.relation('events', {
      description:
        "What happened to the request, in order. Its requester and the person it is for, when not its reviewers, see its status and decision and how running it went (REQUESTED, APPROVED, REJECTED, EXPIRED, CANCELLED and the EXECUTION events), not how it was reviewed.",
      query: (_args, ctx) => ({ where: eventsVisibleTo(ctx), orderBy: { id: 'asc' } }),
    }),
    execution: t.relation('execution', { nullable: true, description: 'How running the approved action goes; null unless the request was approved.' }),
  }),
})

/**
 * The record a request names, as those who see the request may see it: its reviewers and
 * approval viewers always, anyone else only if they may read the record now.
 */
async function shownRecord(ctx: Context, id: string, reviewers: { userId: string | null; agentId: string | null }[]): Promise<Prisma.RecordWhereUniqueInput> {
  return seesRules(ctx) || reviews(ctx, reviewers) ? { id } : { id, AND: [await recordsReadableBy(ctx)] }
}

const InboxOrder = builder.enumType('InboxOrder', {
  values: {
    OLDEST: { description: 'Oldest first (the default).' },
    NEWEST: { description: 'Newest first.' },
    DEADLINE: { description: 'The nearest deadline first; requests without one last, oldest first.' },
  } as const,
})

const INBOX_ORDER = {
  OLDEST: [{ createdAt: 'asc' }, { id: 'asc' }],
  NEWEST: [{ createdAt: 'desc' }, { id: 'desc' }],
  DEADLINE: [{ expiresAt: { sort: 'asc', nulls: 'last' } }, { createdAt: 'asc' }, { id: 'asc' }],
} satisfies Record<string, Prisma.ApprovalRequestOrderByWithRelationInput[]>

const ApprovalRequestConnection = builder.connectionObject({ type: ApprovalRequest, name: 'ApprovalRequestConnection' }, { name: 'ApprovalRequestEdge' })

const RequestApprovalPayload = builder
  .objectRef<requests.RequestOutcome>('RequestApprovalPayload')
  .implement({
    fields: (t) => ({
      approvalRequired: t.exposeBoolean('approvalRequired', { description: 'False when no enabled rule matched: the action may proceed at once.' }),
      request: t.prismaField({
        type: 'ApprovalRequest',
        nullable: true,
        description: 'The request, when a rule matched; its status may already be final (e.g. AUTO_APPROVE with no delay).',
        resolve: (query, p, _args, ctx) => (p.request ? answerRequest(ctx, query, p.request) : nothing(query)),
      }),
    }),
  })

// ---- inputs

export const RequestApprovalInput = builder.inputType('RequestApprovalInput', {
  fields: (t) => ({
    resourceType: t.field({ type: ResourceType, required: true }),
    actionType: t.string({ required: true }),
    params: t.field({ type: 'JSON', required: true }),
    module: t.string(),
    recordId: t.string(),
    summary: t.string({ validate: z.string().max(1000).nullish() }),
    context: t.field({ type: 'JSON' }),
    onBehalfOfUserId: t.id({ description: "The person whose task the agent runs; defaults to the agent's owner." }),
    idempotencyKey: t.string({
      description: 'A retry with the same key from the same requester returns the same request.',
      validate: z.string().min(1).max(200).nullish(),
    }),
  }),
})

const ApprovalHistoryFilter = builder.inputType('ApprovalHistoryFilter', {
  fields: (t) => ({
    status: t.field({ type: [ApprovalStatus] }),
    actionType: t.string(),
    ruleId: t.id(),
    requesterId: t.id(),
    decidedById: t.id(),
    onBehalfOfId: t.id({ description: 'The person the action was for.' }),
    text: t.string({ description: 'Words found in the summary, the action type or the decision comment (any case).', validate: z.string().max(200).nullish() }),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
  }),
})

const InboxFilter = builder.inputType('InboxFilter', {
  description: 'Narrows the inbox; the count (approvalInboxCount) takes the same filter.',
  fields: (t) => ({
    actionType: t.string({ validate: z.string().max(64).nullish() }),
    ruleId: t.id(),
    requesterId: t.id({ description: 'The agent (or user) that asked.' }),
    onBehalfOfId: t.id({ description: 'The person the action is for.' }),
    text: t.string({
      description: "Words found in the summary, the action type, the requester's or the person's name, or the rule's name (any case).",
      validate: z.string().max(200).nullish(),
    }),
  }),
})

export function decodeRequestInput(input: typeof RequestApprovalInput.$inferInput): requests.RequestInput {
  return { ...input, params: input.params, onBehalfOfUserId: parseOptionalId(input.onBehalfOfUserId, ['User'], 'input.onBehalfOfUserId') }
}

/** What the history and the inbox both filter on: the action, the rule, who asked and for whom. */
function requestWhere(filter: typeof InboxFilter.$inferInput): Prisma.ApprovalRequestWhereInput {
  return {
    ...(filter.actionType ? { actionType: filter.actionType } : {}),
    ...(filter.ruleId ? { ruleId: parseId(filter.ruleId, ['ApprovalRule'], 'filter.ruleId').id } : {}),
    ...(filter.requesterId ? { requesterKey: parseId(filter.requesterId, ['User', 'Agent'], 'filter.requesterId').id } : {}),
    ...(filter.onBehalfOfId ? { onBehalfOfId: parseId(filter.onBehalfOfId, ['User'], 'filter.onBehalfOfId').id } : {}),
  }
}

/** Every word (at most ten) found somewhere among `fields`, in any case. */
function wordsWhere(text: string | null | undefined, fields: (word: string) => Prisma.ApprovalRequestWhereInput[]): Prisma.ApprovalRequestWhereInput {
  const words = text?.trim().split(/\s+/).filter(Boolean).slice(0, 10) ?? []
  return words.length ? { AND: words.map((word) => ({ OR: fields(word) })) } : {}
}

const like = (word: string) => ({ contains: word, mode: 'insensitive' as const })

function inboxWhere(filter: typeof InboxFilter.$inferInput | null | undefined): Prisma.ApprovalRequestWhereInput {
  if (!filter) return {}
  return {
    ...requestWhere(filter),
    ...wordsWhere(filter.text, (word) => [
      { summary: like(word) },
      { actionType: like(word) },
      { requesterAgent: { name: like(word) } },
      { requesterUser: { name: like(word) } },
      { onBehalfOf: { name: like(word) } },
      { rule: { name: like(word) } },
    ]),
  }
}

function historyWhere(filter: typeof ApprovalHistoryFilter.$inferInput | null | undefined): Prisma.ApprovalRequestWhereInput {
  if (!filter) return {}
  const decided = filter.decidedById ? parseId(filter.decidedById, ['User', 'Agent'], 'filter.decidedById') : null
  return {
    ...requestWhere(filter),
    ...(filter.status?.length ? { status: { in: filter.status } } : {}),
    ...(decided ? (decided.typename === 'User' ? { decidedByUserId: decided.id } : { decidedByAgentId: decided.id }) : {}),
    // every word somewhere: in the summary, the action type or the decision's comment
    ...wordsWhere(filter.text, (word) => [{ summary: like(word) }, { actionType: like(word) }, { decisionComment: like(word) }]),
    ...(filter.createdAfter || filter.createdBefore
      ? { createdAt: { ...(filter.createdAfter ? { gt: filter.createdAfter } : {}), ...(filter.createdBefore ? { lt: filter.createdBefore } : {}) } }
      : {}),
  }
}

// ---- queries

builder.queryFields((t) => ({
  matchApprovalRule: t.field({
    type: ApprovalRule,
    nullable: true,
    description:
      'Dry run: the rule that would gate this action (asked as the caller), or null. For approval managers and viewers: a gated agent must not probe the rules silently.',
    authScopes: (_root, _args, ctx) => ({ permission: ctx.viewer?.permissions.has('approval:view') ? 'approval:view' : 'approval:manage' }),
    directives: [{ name: 'auth', args: { anyOf: ['approval:manage', 'approval:view'] } }],
    args: { input: t.arg({ type: RequestApprovalInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const rule = await requests.matchApprovalRule(ctx.prisma, ctx.viewer!, decodeRequestInput(input), ctx.limits ?? defaultLimits)
      return rule && shown(rule, true)
    },
  }),
  approvalRequest: t.prismaField({
    type: 'ApprovalRequest',
    nullable: true,
    description: 'A request, for those who may see it: its requester, the person it is for, its reviewers past and present, and approval:view holders.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const where = { AND: [{ id: parseId(id, ['ApprovalRequest'], 'id').id }, requests.visibleTo(ctx.viewer!)] }
      const request = await ctx.prisma.approvalRequest.findFirst({ ...query, where })
      // a request one may not see is indistinguishable from one that does not exist
      if (!request) throw notFound('Approval request')
      return request
    },
  }),
  approvalInbox: t.prismaConnection(
    {
      type: 'ApprovalRequest',
      cursor: 'id',
      description: 'Pending requests the viewer may decide now, oldest first (or as `order` says).',
      authScopes: { permission: 'approval:resolve' },
      ...page({ defaultSize: 20, maxSize: 100 }),
      args: { order: t.arg({ type: InboxOrder, defaultValue: 'OLDEST' }), filter: t.arg({ type: InboxFilter }) },
      resolve: (query, _root, { order, filter }, ctx) =>
        ctx.prisma.approvalRequest.findMany({
          ...query,
          where: { AND: [requests.decidableBy(ctx.viewer!, ctx.clock.now()), inboxWhere(filter)] },
          orderBy: INBOX_ORDER[order ?? 'OLDEST'],
        }),
    },
    ApprovalRequestConnection,
  ),
  approvalInboxCount: t.int({
    description: 'How many pending requests the viewer may decide now (all of them, past any page).',
    authScopes: { permission: 'approval:resolve' },
    args: { filter: t.arg({ type: InboxFilter }) },
    resolve: (_root, { filter }, ctx) => ctx.prisma.approvalRequest.count({ where: { AND: [requests.decidableBy(ctx.viewer!, ctx.clock.now()), inboxWhere(filter)] } }),
  }),
  approvalHistory: t.prismaConnection(
    {
      type: 'ApprovalRequest',
      cursor: 'id',
      description: 'Every request, newest first (approval:view).',
      authScopes: { permission: 'approval:view' },
      ...page({ defaultSize: 20, maxSize: 100 }),
      args: { filter: t.arg({ type: ApprovalHistoryFilter }) },
      resolve: (query, _root, { filter }, ctx) =>
        ctx.prisma.approvalRequest.findMany({ ...query, where: historyWhere(filter), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    ApprovalRequestConnection,
  ),
}))

// ---- mutations

const comment = z.string().trim().max(5000).nullish()

const RecordFieldChangeKind = builder.enumType('RecordFieldChangeKind', { values: ['ADDED', 'CHANGED', 'REMOVED', 'UNCHANGED'] as const })

const RecordFieldChange = builder.objectRef<RecordFieldChangeRow>('RecordFieldChange').implement({
  description: "One field of a record change: the record's value now, and the value it would have after the change.",
  fields: (t) => ({
    field: t.exposeString('field'),
    current: t.expose('current', { type: 'JSON', nullable: true, description: 'Null when the record has no such field.' }),
    proposed: t.expose('proposed', { type: 'JSON', nullable: true, description: 'Null when the change removes the field.' }),
    change: t.expose('change', { type: RecordFieldChangeKind }),
  }),
})

/** Decides one request as the viewer and tells its subscribers; the decided row. */
async function decideAndNotify(ctx: Context, globalId: string, field: string, decision: requests.DecisionInput) {
  const id = parseId(globalId, ['ApprovalRequest'], field).id
  // a person's decision in the inbox says so; any other, a person's or an agent's, came through the API
  const channel = ctx.client === 'inbox' && ctx.viewer!.kind === 'user' ? 'INBOX' : 'API'
  const { request, principals } = await requests.decide(ctx.prisma, ctx.viewer!, id, decision, ctx.clock.now(), {
    maxJsonBytes: ctx.limits?.maxJsonBytes,
    actionTypes: ctx.actionTypes,
    via: { channel },
  })
  if (principals) {
    const { requesterKey } = request
    ctx.notify.publish({ requestId: id, status: request.status, requesterKey, executionReady: request.status === 'APPROVED', principals })
  } else await ctx.notify.changed(id)
  return request
}

builder.mutationField('approveRequest', (t) =>
  t.prismaField({
    type: 'ApprovalRequest',
    description:
      "Approves the request. With params, approves the reviewer's edit of the action's parameters, checked against the action type's paramsSchema: the agent runs that instead (the request keeps both, and an EDITED event holds the JSON Patch).",
    authScopes: { permission: 'approval:resolve' },
    args: { id: t.arg.id({ required: true }), comment: t.arg.string({ validate: comment }), params: t.arg({ type: 'JSON' }) },
    resolve: async (query, _root, args, ctx) => {
      const params = args.params === null ? undefined : args.params
      return answerRequest(ctx, query, await decideAndNotify(ctx, args.id, 'id', { status: 'APPROVED', comment: args.comment || null, params }))
    },
  }),
)

builder.mutationField('rejectRequest', (t) =>
  t.prismaField({
    type: 'ApprovalRequest',
    authScopes: { permission: 'approval:resolve' },
    args: { id: t.arg.id({ required: true }), comment: t.arg.string({ validate: comment }) },
    resolve: async (query, _root, args, ctx) =>
      answerRequest(ctx, query, await decideAndNotify(ctx, args.id, 'id', { status: 'REJECTED', comment: args.comment || null })),
  }),
)

/** The most requests one decideRequests call decides. */
export const MAX_BULK_DECISIONS = 100

const Decision = builder.enumType('Decision', { values: ['APPROVE', 'REJECT'] as const })

interface DecisionOutcome {
  id: string
  request: ApprovalRequestRow | null
  code: string | null
  message: string | null
}

const DecisionResult = builder.objectRef<DecisionOutcome>('DecisionResult').implement({
  description: 'What became of one request of a decideRequests call: decided, or refused with the code a single decision would have had.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The ID as given.' }),
    request: t.prismaField({
      type: 'ApprovalRequest',
      nullable: true,
      description: 'The request after the decision; null when it was refused.',
      resolve: (query, r, _args, ctx) => (r.request ? answerRequest(ctx, query, r.request) : nothing(query)),
    }),
    code: t.exposeString('code', { nullable: true, description: 'The error code it was refused with (CONFLICT, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT).' }),
    message: t.exposeString('message', { nullable: true }),
  }),
})

builder.mutationField('decideRequests', (t) =>
  t.field({
    type: [DecisionResult],
    description: `Decides many requests at once (at most ${MAX_BULK_DECISIONS}), in the order given, each on its own: one refused (decided meanwhile, not the viewer's to decide, unknown) does not stop the others.`,
    authScopes: { permission: 'approval:resolve' },
    args: {
      ids: t.arg.idList({ required: true, validate: z.array(z.unknown()).min(1, 'name at least one request').max(MAX_BULK_DECISIONS, `at most ${MAX_BULK_DECISIONS} requests at once`) }),
      decision: t.arg({ type: Decision, required: true }),
      comment: t.arg.string({ validate: comment }),
    },
    resolve: async (_root, args, ctx) => {
      const status = args.decision === 'APPROVE' ? 'APPROVED' : 'REJECTED'
      const results: DecisionOutcome[] = []
      // one after another: each its own transaction, the database's load bounded, the order kept
      for (const [i, raw] of args.ids.entries()) {
        const id = String(raw)
        try {
          results.push({ id, request: await decideAndNotify(ctx, id, `ids.${i}`, { status, comment: args.comment || null }), code: null, message: null })
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          results.push({ id, request: null, code: String(err.extensions.code), message: err.message })
        }
      }
      return results
    },
  }),
)

builder.mutationFields((t) => ({
  requestApproval: t.field({
    type: RequestApprovalPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RequestApprovalInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await requests.requestApproval(ctx.prisma, ctx.viewer!, decodeRequestInput(input), ctx.clock.now(), ctx.limits)
      if (outcome.approvalRequired && outcome.created) {
        const { request, reviewers } = outcome
        if (reviewers) ctx.notify.publish({ requestId: request.id, status: request.status, requesterKey: request.requesterKey, executionReady: false, principals: reviewers })
        else await ctx.notify.changed(request.id)
      }
      return outcome
    },
  }),
  escalateRequest: t.prismaField({
    type: 'ApprovalRequest',
    description:
      "A current reviewer (an AI reviewer unsure of itself, say) hands the request on: to the rule's fallback, or to the approval managers when there is no fallback or it already has it.",
    authScopes: { permission: 'approval:resolve' },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: true, validate: z.string().trim().min(1, 'say why').max(5000) }) },
    resolve: async (query, _root, { id, reason }, ctx) => {
      const escalated = await requests.escalate(ctx.prisma, ctx.viewer!, parseId(id, ['ApprovalRequest'], 'id').id, reason.trim(), ctx.clock.now())
      await ctx.notify.changed(escalated.id)
      return reloadRequest(ctx, query, escalated.id)
    },
  }),
  cancelApprovalRequest: t.prismaField({
    type: 'ApprovalRequest',
    description: 'Withdraws a pending request: its requester, or an approval:manage holder.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ validate: comment }) },
    resolve: async (query, _root, { id, reason }, ctx) => {
      const cancelled = await requests.cancel(ctx.prisma, ctx.viewer!, parseId(id, ['ApprovalRequest'], 'id').id, reason || null, ctx.clock.now())
      await ctx.notify.changed(cancelled.id)
      return reloadRequest(ctx, query, cancelled.id)
    },
  }),
}))
