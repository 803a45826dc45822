import { z } from 'zod'
import { readableRecords, recordScope } from '../approvals/record-access.js'
import { createRecordMutation, updateRecordMutation } from '../approvals/record-mutations.js'
import * as visibility from '../approvals/record-visibility.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import type { Prisma } from '../db.js'
import type { ModuleSettings as ModuleSettingsRow } from '../generated/prisma/client.js'
import { parseId, parseOptionalId } from './ids.js'
import { nothing, reloadRequest } from './shared.js'

/** The records the viewer may read, as a Prisma filter (see record-access.ts): one query, the PRIVATE modules come from memory. */
export async function recordsReadableBy(ctx: Context): Promise<Prisma.RecordWhereInput> {
  return readableRecords(recordScope(ctx.viewer!), await visibility.privateModules(ctx.prisma, ctx.limits?.modules))
}

/** A module's name, as records, rules and module settings take it. */
const moduleName = z.string().trim().min(1, 'must not be empty').max(100)

// Mirrors the database's enum (see prisma/schema.prisma).
const RecordVisibility = builder.enumType('RecordVisibility', {
  values: {
    ORG: { description: "Every signed-in user and agent reads the module's records and may propose changes (the default)." },
    PRIVATE: { description: 'Only the owner, record:manage holders and agents acting for someone who may read it.' },
  } as const,
})

const ModuleSettings = builder.objectRef<ModuleSettingsRow>('ModuleSettings').implement({
  fields: (t) => ({
    module: t.exposeString('module'),
    visibility: t.field({ type: RecordVisibility, resolve: (m) => m.visibility }),
  }),
})

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
    module: t.string({ required: true, validate: moduleName }),
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
    description:
      "A record, for those who may read it: everyone signed in when its module is ORG (the default); when PRIVATE, its owner, holders of record:manage, and agents acting for a user who may read it. Null otherwise.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) =>
      ctx.prisma.record.findFirst({
        ...query,
        where: { AND: [{ id: parseId(id, ['Record'], 'id').id }, await recordsReadableBy(ctx)] },
      }),
  }),
  moduleSettings: t.field({
    type: [ModuleSettings],
    description: 'approval:manage: modules with settings of their own (others are ORG).',
    authScopes: { permission: 'approval:manage' },
    resolve: (_root, _args, ctx) => visibility.listModuleSettings(ctx.prisma),
  }),
}))

// ---- mutations

builder.mutationFields((t) => ({
  setModuleVisibility: t.field({
    type: ModuleSettings,
    description: 'approval:manage.',
    authScopes: { permission: 'approval:manage' },
    args: {
      module: t.arg.string({ required: true, validate: moduleName }),
      visibility: t.arg({ type: RecordVisibility, required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const settings = await visibility.setModuleVisibility(ctx.prisma, ctx.viewer!.id, args.module.trim(), args.visibility)
      // this instance sees the change at once; the others when the announcement arrives
      ctx.limits?.modules?.invalidate()
      ctx.pubsub.publish('moduleSettingsChanged', { module: settings.module })
      return settings
    },
  }),
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
      "Changes a record's data as a JSON Merge Patch (RFC 7396: the fields given take their values, null removes one, the others stay), and its owner when given; at once, or, when a rule gates it, once approved. The record's owner (or an agent acting for them) and holders of record:manage change it directly (a rule still gates an agent); anyone else who may read it proposes the change, which a rule must gate (FORBIDDEN otherwise). A new owner needs record:manage or being the current owner.",
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
