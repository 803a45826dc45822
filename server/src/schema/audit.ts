// The audit log: the service-wide feed of events (approvalEvents), each event's place in its
// request's hash chain, and the verification of the chains (see approvals/audit-log.ts).
import DataLoader from 'dataloader'
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay'
import type { Context } from '../context.js'
import { verifyAuditLog } from '../approvals/audit-log.js'
import { builder } from '../builder.js'
import { page } from './cost.js'
import { ApprovalEventRef } from './requests.js'

builder.prismaObjectFields('ApprovalEvent', (t) => ({
  id: t.id({ select: { id: true }, resolve: (e) => encodeGlobalID('ApprovalEvent', String(e.id)) }),
  sequence: t.string({
    description: 'Position in the service-wide log: strictly increasing in the order the feed returns events.',
    select: { id: true, sequence: true },
    // an event committed a moment ago may not be numbered yet: number it (with any others pending) first
    resolve: async (e, _args, ctx) => String(e.sequence ?? (await ctx.audit.sequenceOf(e.id))),
  }),
  request: t.relation('request'),
  position: t.exposeInt('position', { description: "Place in its request's hash chain, from 1." }),
  prevHash: t.exposeString('prevHash', { nullable: true, description: "The hash of the event before it in its request's chain; null for the first." }),
  hash: t.exposeString('hash', {
    description: 'Lowercase hex SHA-256 linking this event to what precedes it, so that any later change is detectable.',
  }),
}))

const ActorRole = builder.enumType('AuditActorRole', {
  description: 'In what capacity an event was done.',
  values: {
    PERSON: { description: 'A person, in the inbox, through the API, an email link or Slack.' },
    DELEGATE: { description: "A person deciding in the place of an away reviewer (see delegateOf)." },
    AGENT: { description: 'The agent that asked (a request, a cancellation, running the approved action).' },
    REVIEWER_AGENT: { description: 'An AI agent deciding as a reviewer.' },
    SCHEDULER: { description: 'The service on a deadline: expiry, escalation, approval after a delay or at expiry.' },
    SERVICE: { description: 'The service itself otherwise: assigning reviewers, running a record change, an approval with no reviewer.' },
  } as const,
})

const DECIDING = new Set(['APPROVED', 'REJECTED', 'VOTED', 'EDITED', 'VOTES_VOIDED'])
const ON_DEADLINE = new Set(['EXPIRED', 'ESCALATED'])

builder.prismaObjectFields('ApprovalEvent', (t) => ({
  actedAs: t.field({
    type: ActorRole,
    description: 'In what capacity the actor acted (null actor: the scheduler or the service).',
    select: { type: true, actorUserId: true, actorAgentId: true, details: true, requestId: true, id: true },
    resolve: async (e, _args, ctx) => {
      if (e.actorAgentId) return DECIDING.has(e.type) ? 'REVIEWER_AGENT' : 'AGENT'
      if (e.actorUserId) return DECIDING.has(e.type) && (await delegatedBy(ctx, e)) ? 'DELEGATE' : 'PERSON'
      const details = e.details as { scheduled?: unknown } | null
      return ON_DEADLINE.has(e.type) || details?.scheduled === true ? 'SCHEDULER' : 'SERVICE'
    },
  }),
  delegateOf: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'For a decision by a delegate: the away reviewer in whose place they decided.',
    select: { type: true, actorUserId: true, requestId: true, id: true },
    resolve: async (query, e, _args, ctx) => {
      if (!e.actorUserId || !DECIDING.has(e.type)) return null
      const absent = await delegatedBy(ctx, e)
      return absent ? ctx.prisma.user.findUnique({ ...query, where: { id: absent } }) : null
    },
  }),
  channel: t.string({
    nullable: true,
    description: "Where a decision was made: INBOX (a person in the inbox), API (any other client of the API, agents included), EMAIL (a decision link), SLACK. Null for other events and for decisions recorded before channels were.",
    select: { details: true },
    resolve: (e) => {
      const channel = (e.details as { channel?: unknown } | null)?.channel
      return typeof channel === 'string' ? channel : null
    },
  }),
}))

interface DecisionEvent {
  requestId: string
  id: bigint
  actorUserId: string | null
}

/**
 * Each operation's delegation lookups: the decisions of one page (and actedAs and delegateOf of
 * one event) are answered by one query for the DELEGATED events of their requests.
 */
const delegations = new WeakMap<Context, DataLoader<DecisionEvent, string | null, bigint>>()

/** The away reviewer whose delegate made this decision: the last DELEGATED event before it that names its actor as delegate. */
function delegatedBy(ctx: Context, e: DecisionEvent): Promise<string | null> {
  let loader = delegations.get(ctx)
  if (!loader) {
    loader = new DataLoader(
      async (events) => {
        const requestIds = [...new Set(events.map((e) => e.requestId))]
        const delegated = await ctx.prisma.approvalEvent.findMany({
          where: { requestId: { in: requestIds }, type: 'DELEGATED' },
          orderBy: { id: 'desc' },
          select: { id: true, requestId: true, details: true },
        })
        return events.map((e) => {
          if (!e.actorUserId) return null
          const delegate = encodeGlobalID('User', e.actorUserId)
          const last = delegated.find((d) => d.requestId === e.requestId && d.id < e.id && (d.details as { delegate?: unknown } | null)?.delegate === delegate)
          const absent = (last?.details as { absent?: unknown } | null)?.absent
          return typeof absent === 'string' ? decodeGlobalID(absent).id : null
        })
      },
      { cacheKeyFn: (e) => e.id },
    )
    delegations.set(ctx, loader)
  }
  return loader.load(e)
}

const ApprovalEventConnection = builder.connectionObject({ type: ApprovalEventRef, name: 'ApprovalEventConnection' }, { name: 'ApprovalEventEdge' })

interface Verification {
  ok: boolean
  checkedEvents: number
  checkedCheckpoints: number
  firstBrokenEventId: bigint | null
  problem: string | null
}

const AuditVerification = builder.objectRef<Verification>('AuditVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checkedEvents: t.exposeInt('checkedEvents'),
    checkedCheckpoints: t.exposeInt('checkedCheckpoints'),
    firstBrokenEvent: t.prismaField({
      type: 'ApprovalEvent',
      nullable: true,
      description: 'The first event whose stored content no longer matches its hash chain, when not ok.',
      resolve: (query, v, _args, ctx) => (v.firstBrokenEventId === null ? null : ctx.prisma.approvalEvent.findUnique({ ...query, where: { id: v.firstBrokenEventId } })),
    }),
    problem: t.exposeString('problem', { nullable: true, description: 'What is wrong, in words, when not ok.' }),
  }),
})

builder.queryFields((t) => ({
  approvalEvents: t.prismaConnection(
    {
      type: 'ApprovalEvent',
      cursor: 'sequence',
      description:
        "Every request's events, service-wide, oldest first (approval:view). A follower that keeps its cursor never misses an event: events are numbered after they commit, so none lands behind a cursor already handed out.",
      authScopes: { permission: 'approval:view' },
      ...page({ defaultSize: 100, maxSize: 1000 }),
      resolve: async (query, _root, _args, ctx) => {
        // number what has committed since the last pass, so the follower is not a pass behind
        await ctx.audit.runOnce()
        return ctx.prisma.approvalEvent.findMany({ ...query, where: { sequence: { not: null } }, orderBy: { sequence: 'asc' } })
      },
    },
    ApprovalEventConnection,
  ),
  verifyAuditLog: t.field({
    type: AuditVerification,
    description: "Recomputes the audit log's hash chains and checkpoints (approval:manage).",
    authScopes: { permission: 'approval:manage' },
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.prisma),
  }),
}))
