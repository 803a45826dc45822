// Running approved actions: the execution of a request, the leases of its attempts, and the
// subscription that tells a requester's workers what is ready to run.
import { z } from 'zod'
import * as executions from '../approvals/executions.js'
import { DEFAULT_MAX_JSON_BYTES } from '../approvals/requests.js'
import { approvedActionsStream } from '../approvals/streams.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import { parseId } from './ids.js'

const settings = (ctx: Context): executions.ExecutionSettings => ctx.executions ?? { maxAttempts: executions.DEFAULT_MAX_EXECUTION_ATTEMPTS }

export const ExecutionStatus = builder.enumType('ExecutionStatus', { values: ['READY', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const })

builder.prismaObject('Execution', {
  description: "How running an approved action goes. Its requester's worker leases it (claim), runs it and reports; the server runs record mutations itself.",
  fields: (t) => ({
    status: t.expose('status', { type: ExecutionStatus }),
    params: t.expose('params', { type: 'JSON', description: "What to run: the request's params, or the reviewer's edited version of them." }),
    paramsDigest: t.exposeString('paramsDigest', { description: 'Lowercase hex SHA-256 of the canonical JSON (RFC 8785) of params; a worker checks it before running.' }),
    attempts: t.exposeInt('attempts'),
    leaseExpiresAt: t.expose('leaseExpiresAt', { type: 'DateTime', nullable: true }),
    result: t.expose('result', { type: 'JSON', nullable: true, description: 'What the worker reported on success (e.g. the sent email\'s message id).' }),
    error: t.exposeString('error', { nullable: true, description: "The last failure's message." }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
})

const ExecutionLease = builder.objectRef<executions.Lease>('ExecutionLease').implement({
  description: 'One attempt at running an approved action, held by its worker until leaseExpiresAt.',
  fields: (t) => ({
    leaseToken: t.exposeString('leaseToken', { description: 'Present it to extend, complete or fail this attempt.' }),
    attempt: t.exposeInt('attempt'),
    leaseExpiresAt: t.expose('leaseExpiresAt', { type: 'DateTime' }),
    request: t.prismaField({
      type: 'ApprovalRequest',
      resolve: (query, lease, _args, ctx) => ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: lease.requestId } }),
    }),
  }),
})

const leaseSeconds = z.number().int().min(5, 'a lease lasts at least 5 seconds').max(24 * 3600, 'a lease lasts at most a day')
const leaseToken = z.string().min(1).max(200)
const actionTypes = z.array(z.string().max(100)).max(50).nullish()

builder.mutationFields((t) => ({
  claimApprovedActions: t.field({
    type: [ExecutionLease],
    description: "Leases the caller's approved actions that are ready to run, oldest first.",
    authScopes: { authenticated: true },
    args: {
      limit: t.arg.int({ defaultValue: 10, validate: z.number().int().min(1).max(100) }),
      leaseSeconds: t.arg.int({ defaultValue: 60, validate: leaseSeconds }),
      actionTypes: t.arg.stringList({ validate: actionTypes }),
    },
    resolve: (_root, args, ctx) =>
      executions.claimApprovedActions(
        ctx.prisma,
        ctx.viewer!,
        { limit: args.limit ?? 10, leaseSeconds: args.leaseSeconds ?? 60, actionTypes: args.actionTypes ?? null },
        ctx.clock.now(),
        settings(ctx),
      ),
  }),
  claimExecution: t.field({
    type: ExecutionLease,
    description: "Leases one approved action of the caller's; CONFLICT when it is not ready to run.",
    authScopes: { authenticated: true },
    args: { requestId: t.arg.id({ required: true }), leaseSeconds: t.arg.int({ defaultValue: 60, validate: leaseSeconds }) },
    resolve: (_root, args, ctx) =>
      executions.claimExecution(ctx.prisma, ctx.viewer!, parseId(args.requestId, ['ApprovalRequest'], 'requestId').id, args.leaseSeconds ?? 60, ctx.clock.now(), settings(ctx)),
  }),
  extendExecutionLease: t.field({
    type: ExecutionLease,
    authScopes: { authenticated: true },
    args: { leaseToken: t.arg.string({ required: true, validate: leaseToken }), leaseSeconds: t.arg.int({ defaultValue: 60, validate: leaseSeconds }) },
    resolve: (_root, args, ctx) => executions.extendLease(ctx.prisma, ctx.viewer!, args.leaseToken, args.leaseSeconds ?? 60, ctx.clock.now()),
  }),
  completeExecution: t.prismaField({
    type: 'ApprovalRequest',
    authScopes: { authenticated: true },
    args: { leaseToken: t.arg.string({ required: true, validate: leaseToken }), result: t.arg({ type: 'JSON' }) },
    resolve: async (query, _root, args, ctx) => {
      const maxJsonBytes = ctx.limits?.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES
      const id = await executions.completeExecution(ctx.prisma, ctx.viewer!, args.leaseToken, args.result ?? null, ctx.clock.now(), maxJsonBytes)
      return ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id } })
    },
  }),
  failExecution: t.prismaField({
    type: 'ApprovalRequest',
    authScopes: { authenticated: true },
    args: {
      leaseToken: t.arg.string({ required: true, validate: leaseToken }),
      error: t.arg.string({ required: true, validate: z.string().trim().min(1, 'say what went wrong').max(5000) }),
      retryable: t.arg.boolean({ defaultValue: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const { requestId, ready } = await executions.failExecution(ctx.prisma, ctx.viewer!, args.leaseToken, args.error, args.retryable ?? true, ctx.clock.now(), settings(ctx))
      if (ready) ctx.pubsub.publish('executionReady', ctx.viewer!.id, { requestId })
      return ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: requestId } })
    },
  }),
}))

builder.subscriptionField('approvedActions', (t) =>
  t.prismaField({
    type: 'ApprovalRequest',
    description: "The caller's approved actions as they become ready to run, including those whose lease ran out; the ones already ready when it starts come first.",
    authScopes: { authenticated: true },
    args: { actionTypes: t.arg.stringList({ validate: actionTypes }) },
    subscribe: (_root, { actionTypes }, ctx) => approvedActionsStream(ctx, actionTypes ?? null, settings(ctx)),
    resolve: (query, event, _args, ctx) =>
      ctx.prisma.approvalRequest.findUniqueOrThrow({ ...query, where: { id: (event as unknown as { requestId: string }).requestId } }),
  }),
)
