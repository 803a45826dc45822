// The audit log: the service-wide feed of events (approvalEvents), each event's place in its
// request's hash chain, and the verification of the chains (see approvals/audit-log.ts).
import { encodeGlobalID } from '@pothos/plugin-relay'
import { verifyAuditLog } from '../approvals/audit-log.js'
import { builder } from '../builder.js'
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
      defaultSize: 100,
      maxSize: 1000,
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
