import { z } from 'zod'
import { readableRecords, recordScope } from '../approvals/record-access.js'
import { createRecordMutation, updateRecordMutation } from '../approvals/record-mutations.js'
import { builder } from '../builder.js'
import type { Prisma } from '../db.js'
import { parseId, parseOptionalId } from './ids.js'
import { nothing, reloadRequest } from './shared.js'

builder.prismaNode('Record', {
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    module: t.exposeString('module'),
    owner: t.relation('owner', { nullable: true }),
    data: t.expose('data', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const RecordMutationPayload = builder.objectRef<Awaited<ReturnType<typeof createRecordMutation>>>('RecordMutationPayload').implement({
  fields: (t) => ({
    record: t.prismaField({
      type: 'Record',
      nullable: true,
      description: 'The record, when the mutation ran at once.',
      resolve: (query, p, _args, ctx) => (p.record ? ctx.prisma.record.findUnique({ ...query, where: { id: p.record.id } }) : nothing(query)),
    }),
    approvalRequest: t.prismaField({
      type: 'ApprovalRequest',
      nullable: true,
      description: 'The approval request, when a rule gated the mutation; it runs by itself once approved.',
      resolve: (query, p, _args, ctx) => (p.approvalRequest ? reloadRequest(ctx, query, p.approvalRequest.id) : nothing(query)),
    }),
  }),
})

// ---- inputs

const CreateRecordInput = builder.inputType('CreateRecordInput', {
  fields: (t) => ({
    module: t.string({ required: true, validate: z.string().trim().min(1, 'must not be empty').max(100) }),
    data: t.field({ type: 'JSON', required: true, description: "The new record's fields, as a JSON object." }),
    ownerId: t.id(),
  }),
})

const UpdateRecordInput = builder.inputType('UpdateRecordInput', {
  fields: (t) => ({
    data: t.field({ type: 'JSON', required: true, description: 'The fields to change, as a JSON Merge Patch (RFC 7396): null removes a field; fields left out stay as they are.' }),
    ownerId: t.id(),
  }),
})

// ---- queries

builder.queryFields((t) => ({
  record: t.prismaField({
    type: 'Record',
    nullable: true,
    description: 'A record, for its owner, holders of record:manage, and agents acting for a user who may read it; null otherwise.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) =>
      ctx.prisma.record.findFirst({
        ...query,
        where: { AND: [{ id: parseId(id, ['Record'], 'id').id }, readableRecords(recordScope(ctx.viewer!))] },
      }),
  }),
}))

// ---- mutations

builder.mutationFields((t) => ({
  createRecord: t.field({
    type: RecordMutationPayload,
    description: 'Creates a record at once, or, for an agent whose action a RECORD_MUTATION rule gates, asks for approval first.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateRecordInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const result = await createRecordMutation(
        ctx.prisma,
        ctx.viewer!,
        { module: input.module.trim(), data: input.data as Prisma.InputJsonValue, ownerId: parseOptionalId(input.ownerId, ['User'], 'input.ownerId') },
        ctx.clock.now(),
        ctx.limits,
      )
      if (result.approvalRequest) await ctx.notify.changed(result.approvalRequest.id)
      return result
    },
  }),
  updateRecord: t.field({
    type: RecordMutationPayload,
    description:
      "Changes a record's data as a JSON Merge Patch (RFC 7396: the fields given take their values, null removes one, the others stay), and its owner when given; at once, or, when a rule gates it for this agent, once approved.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateRecordInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) => {
      const result = await updateRecordMutation(
        ctx.prisma,
        ctx.viewer!,
        parseId(id, ['Record'], 'id').id,
        { data: input.data as Prisma.InputJsonValue, ownerId: parseOptionalId(input.ownerId, ['User'], 'input.ownerId') },
        ctx.clock.now(),
        ctx.limits,
      )
      if (result.approvalRequest) await ctx.notify.changed(result.approvalRequest.id)
      return result
    },
  }),
}))
