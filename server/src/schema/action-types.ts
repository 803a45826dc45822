import * as actionTypes from '../approvals/action-types.js'
import type { ActionType as ActionTypeShape } from '../approvals/catalogue.js'
import { builderFacts, type BuilderFact, type FactKind } from '../approvals/condition-facts.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import type { ActionType as ActionTypeRow } from '../generated/prisma/client.js'
import { ResourceType } from './enums.js'

type ActionTypeView = Omit<ActionTypeShape, 'validator'>

const ConditionFactKind = builder.enumType('ConditionFactKind', {
  description: 'What a condition fact holds (lists of addresses and URLs are normalized: lower-cased, canonical).',
  values: ['TEXT', 'ADDRESS', 'URL', 'DATETIME', 'ID', 'NUMBER', 'BOOLEAN', 'TEXT_LIST', 'ADDRESS_LIST', 'URL_LIST', 'NUMBER_LIST', 'OBJECT', 'ANY'] as const satisfies readonly FactKind[],
})

const ConditionFact = builder.objectRef<BuilderFact>('ConditionFact').implement({
  description: "A fact a rule's conditions may test: its path (JSONLogic's var), its kind, and the rule builder's operators for it.",
  fields: (t) => ({
    path: t.exposeString('path', { description: 'What a condition names it by: {"var": path}.' }),
    label: t.exposeString('label'),
    kind: t.field({ type: ConditionFactKind, resolve: (f) => f.kind }),
    canonical: t.boolean({ description: 'Whether its values are canonical (addresses lower-cased, URLs normalized): literals compared with it are put in that form when a rule is saved.', resolve: (f) => f.canonical ?? false }),
    operators: t.exposeStringList('operators', { description: "The rule builder's operators for this fact (see the README's Conditions)." }),
    choices: t.stringList({ nullable: true, description: 'The values it takes, when they are a fixed set.', resolve: (f) => f.choices ?? null }),
  }),
})

const ActionType = builder.objectRef<ActionTypeView>('ActionType').implement({
  description: 'The action types requests may name: the built-in catalogue, and those an admin adds.',
  fields: (t) => ({
    key: t.exposeString('key'),
    resourceType: t.field({ type: ResourceType, resolve: (a) => a.resourceType }),
    description: t.exposeString('description'),
    paramsSchema: t.field({
      type: 'JSON',
      description: "JSON Schema (draft 2020-12) that a request's params must satisfy, and an edited version too.",
      resolve: (a) => a.paramsSchema,
    }),
    builtIn: t.exposeBoolean('builtIn'),
    conditionFacts: t.field({
      type: [ConditionFact],
      description: "The facts a rule's conditions may test for this action type, with their kinds and the rule builder's operators for each.",
      resolve: (a) => builderFacts(a),
    }),
  }),
})

const ActionTypeInput = builder.inputType('ActionTypeInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'Lowercase letters, digits and underscores; custom action types are AGENT_ACTIONs.' }),
    description: t.string({ required: true }),
    paramsSchema: t.field({ type: 'JSON', required: true }),
  }),
})

const custom = (row: ActionTypeRow): ActionTypeView => ({
  key: row.key,
  resourceType: 'AGENT_ACTION',
  description: row.description,
  paramsSchema: row.paramsSchema as Record<string, unknown>,
  builtIn: false,
})

/**
 * Tells every instance that a custom action type changed (after its transaction committed): they
 * drop the ones they hold. This instance drops its own at once, so that its next request sees
 * the change even before the announcement comes back through Redis.
 */
function announced<T>(ctx: Context, key: string, result: T): T {
  ctx.actionTypes.invalidate()
  ctx.pubsub.publish('actionTypesChanged', { key })
  return result
}

// ---- queries

builder.queryFields((t) => ({
  actionTypes: t.field({
    type: [ActionType],
    description: 'The action types that rules can gate: the built-in catalogue, then the custom ones by key.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.actionTypes.list(ctx.prisma),
  }),
  actionType: t.field({
    type: ActionType,
    nullable: true,
    authScopes: { authenticated: true },
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_root, { key }, ctx) => (await ctx.actionTypes.find(ctx.prisma, key)) ?? null,
  }),
}))

// ---- mutations

builder.mutationFields((t) => ({
  createActionType: t.field({
    type: ActionType,
    description: 'Adds a custom action type (an AGENT_ACTION) that rules can gate and agents can request; its key may not be a built-in one.',
    authScopes: { permission: 'approval:manage' },
    args: { input: t.arg({ type: ActionTypeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const row = await actionTypes.createActionType(ctx.prisma, ctx.viewer!.id, input)
      return announced(ctx, row.key, custom(row))
    },
  }),
  updateActionType: t.field({
    type: ActionType,
    description: "Replaces a custom action type's description and schema (the key stays). Later requests and edits are checked against the new schema.",
    authScopes: { permission: 'approval:manage' },
    args: { key: t.arg.string({ required: true }), input: t.arg({ type: ActionTypeInput, required: true }) },
    resolve: async (_root, { key, input }, ctx) => {
      const row = await actionTypes.updateActionType(ctx.prisma, ctx.viewer!.id, key, input)
      return announced(ctx, row.key, custom(row))
    },
  }),
  deleteActionType: t.boolean({
    description: 'Deletes a custom action type; CONFLICT while a rule names it.',
    authScopes: { permission: 'approval:manage' },
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_root, { key }, ctx) => announced(ctx, key, await actionTypes.deleteActionType(ctx.prisma, key)),
  }),
}))
