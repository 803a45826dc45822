import { DEFAULT_MAX_JSON_BYTES, type RequestSettings } from '../approvals/requests.js'
import * as rules from '../approvals/rules.js'
import type { ResolverSpec as ResolverSpecShape, RuleView, StageSpec } from '../approvals/rules.js'
import { createFactTypes } from '../approvals/condition-facts.js'
import { conditionWarnings } from '../approvals/conditions.js'
import { builder } from '../builder.js'
import type { Context } from '../context.js'
import { ExpiryAction, ResolverType, ResourceType } from './enums.js'
import { parseId, parseOptionalId } from './ids.js'
import { decodeRequestInput, RequestApprovalInput } from './requests.js'
import { nothing } from './shared.js'

const defaultLimits: RequestSettings = { maxJsonBytes: DEFAULT_MAX_JSON_BYTES }

/**
 * A rule as given to one viewer: `detail` says whether the viewer may see more than its id,
 * name and description. Managers and viewers of approvals may, and so may a request's
 * reviewers (they need to know why it is gated); the requester and the person it is for may
 * not, so that a gated agent cannot probe a rule's conditions for the gap.
 */
type ShownRule = RuleView & { detail: boolean }
/** The rule as given to a viewer who may (`detail`) or may not see more than its id, name and description. */
export const shown = (rule: RuleView, detail: boolean): ShownRule => ({ ...rule, detail })

/** Tells every instance that a rule changed (after its transaction committed): they drop their cached rules. */
function announced<T extends { id: string }>(ctx: Context, rule: T): T {
  ctx.pubsub.publish('rulesChanged', { ruleId: rule.id })
  return rule
}
const managed = (rule: RuleView | null) => rule && shown(rule, true)
/** Whether the viewer sees every rule's detail (approval:manage or approval:view). */
export const seesRules = (ctx: Context) => !!ctx.viewer && (ctx.viewer.permissions.has('approval:manage') || ctx.viewer.permissions.has('approval:view'))

/** A rule field only those who may see the rule's detail get. */
const RULE_DETAIL = {
  authScopes: (rule: ShownRule) => (rule.detail ? { authenticated: true } : { permission: 'approval:manage' as const }),
  directives: [{ name: 'auth' as const, args: { anyOf: ['approval:manage', 'approval:view', 'reviewer'] } }],
}

const ResolverSpec = builder.objectRef<ResolverSpecShape>('ResolverSpec').implement({
  fields: (t) => ({
    type: t.field({ type: ResolverType, resolve: (s) => s.type }),
    // Prisma batches the findUnique calls of one tick into one query, so lists of rules stay cheap
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, s, _args, ctx) => (s.userId ? ctx.prisma.user.findUnique({ ...query, where: { id: s.userId } }) : nothing(query)),
    }),
    role: t.prismaField({
      type: 'Role',
      nullable: true,
      resolve: (query, s, _args, ctx) => (s.roleKey ? ctx.prisma.role.findUnique({ ...query, where: { key: s.roleKey } }) : nothing(query)),
    }),
    agent: t.prismaField({
      type: 'Agent',
      nullable: true,
      resolve: (query, s, _args, ctx) => (s.agentId ? ctx.prisma.agent.findUnique({ ...query, where: { id: s.agentId } }) : nothing(query)),
    }),
    roleKey: t.string({ nullable: true, resolve: (s) => s.roleKey ?? null }),
    delaySeconds: t.int({ nullable: true, resolve: (s) => s.delaySeconds ?? null }),
  }),
})

const ApprovalStage = builder.objectRef<StageSpec>('ApprovalStage').implement({
  description: 'One stage of a rule: who decides, who takes over, and how many approvals it needs.',
  fields: (t) => ({
    name: t.string({ nullable: true, resolve: (s) => s.name }),
    primaryResolver: t.field({ type: ResolverSpec, resolve: (s) => s.primaryResolver }),
    fallbackResolver: t.field({ type: ResolverSpec, nullable: true, resolve: (s) => s.fallbackResolver }),
    requiredApprovals: t.exposeInt('requiredApprovals'),
    escalateAfterSeconds: t.int({ nullable: true, resolve: (s) => s.escalateAfterSeconds }),
  }),
})

export const ApprovalRule = builder.node(builder.objectRef<ShownRule>('ApprovalRule'), {
  id: { resolve: (r) => r.id },
  // node(id:) shows rules to those who manage them, as approvalRule does; reviewers see a
  // request's rule through ApprovalRequest.rule
  loadOne: async (id, ctx) => (ctx.viewer?.permissions.has('approval:manage') ? managed(await rules.getRule(ctx.prisma, id)) : null),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    enabled: t.exposeBoolean('enabled', RULE_DETAIL),
    priority: t.exposeInt('priority', RULE_DETAIL),
    resourceType: t.field({ type: ResourceType, ...RULE_DETAIL, resolve: (r) => r.resourceType }),
    actionType: t.exposeString('actionType', RULE_DETAIL),
    module: t.exposeString('module', { nullable: true, ...RULE_DETAIL }),
    conditions: t.field({ type: 'JSON', nullable: true, ...RULE_DETAIL, resolve: (r) => r.conditions ?? null }),
    conditionWarnings: t.stringList({
      ...RULE_DETAIL,
      description: 'Why the stored conditions would be refused or rewritten if saved today; empty when they are fine.',
      resolve: async (r, _args, ctx) => {
        const action = await ctx.actionTypes.find(ctx.prisma, r.actionType)
        return conditionWarnings(r.conditions, action && createFactTypes(action))
      },
    }),
    primaryResolver: t.field({ type: ResolverSpec, ...RULE_DETAIL, resolve: (r) => r.primaryResolver }),
    fallbackResolver: t.field({ type: ResolverSpec, nullable: true, ...RULE_DETAIL, resolve: (r) => r.fallbackResolver }),
    expiresAfterSeconds: t.exposeInt('expiresAfterSeconds', { nullable: true, ...RULE_DETAIL }),
    escalateAfterSeconds: t.exposeInt('escalateAfterSeconds', { nullable: true, ...RULE_DETAIL }),
    allowSelfApproval: t.exposeBoolean('allowSelfApproval', RULE_DETAIL),
    allowEdit: t.exposeBoolean('allowEdit', { ...RULE_DETAIL, description: 'Whether reviewers may approve with edited parameters.' }),
    onExpiry: t.expose('onExpiry', { ...RULE_DETAIL, type: ExpiryAction }),
    requiredApprovals: t.exposeInt('requiredApprovals', { ...RULE_DETAIL, description: 'Approvals the first stage (primaryResolver / fallbackResolver) needs.' }),
    nextStages: t.field({ type: [ApprovalStage], ...RULE_DETAIL, description: 'Stages decided in order after the first one.', resolve: (r) => r.nextStages }),
    version: t.exposeInt('version', { description: 'Starts at 1; every update adds one. A request shows the version it matched.', ...RULE_DETAIL }),
    createdBy: t.prismaField({
      type: 'User',
      nullable: true,
      ...RULE_DETAIL,
      resolve: (query, r, _args, ctx) => (r.createdById ? ctx.prisma.user.findUnique({ ...query, where: { id: r.createdById } }) : nothing(query)),
    }),
    updatedBy: t.prismaField({
      type: 'User',
      nullable: true,
      ...RULE_DETAIL,
      resolve: (query, r, _args, ctx) => (r.updatedById ? ctx.prisma.user.findUnique({ ...query, where: { id: r.updatedById } }) : nothing(query)),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', ...RULE_DETAIL }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', ...RULE_DETAIL }),
  }),
})

const RuleTestResult = builder.objectRef<rules.RuleTest>('RuleTestResult').implement({
  description: 'What a rule, as it is being edited, would do to a sample action (testApprovalRule).',
  fields: (t) => ({
    gates: t.exposeBoolean('gates', { description: 'Whether the rule, saved as it is, would gate the sample: it applies, and no saved rule outranks it.' }),
    applies: t.exposeBoolean('applies', { description: 'Whether the rule applies to the sample on its own: enabled, for its action and module, its conditions holding.' }),
    conditionsHold: t.exposeBoolean('conditionsHold', { description: "Whether the rule's conditions hold for the sample (no conditions always hold)." }),
    conditionError: t.exposeString('conditionError', {
      nullable: true,
      description: 'Why the conditions could not be evaluated; they then count as holding, as when requests are matched.',
    }),
    competingRule: t.field({
      type: ApprovalRule,
      nullable: true,
      description: "The saved rule that gates the sample now (matchApprovalRule's answer, the edited rule's saved version left out): the one this rule competes with.",
      resolve: (r) => managed(r.competingRule),
    }),
  }),
})

// ---- inputs

const ResolverInput = builder.inputType('ResolverInput', {
  fields: (t) => ({
    type: t.field({ type: ResolverType, required: true }),
    userId: t.id(),
    roleKey: t.string(),
    agentId: t.id(),
    delaySeconds: t.int(),
  }),
})

const ApprovalStageInput = builder.inputType('ApprovalStageInput', {
  fields: (t) => ({
    name: t.string(),
    primaryResolver: t.field({ type: ResolverInput, required: true }),
    fallbackResolver: t.field({ type: ResolverInput }),
    requiredApprovals: t.int({ defaultValue: 1 }),
    escalateAfterSeconds: t.int(),
  }),
})

const ApprovalRuleInput = builder.inputType('ApprovalRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    enabled: t.boolean({ defaultValue: true }),
    priority: t.int({ defaultValue: 0, description: 'Higher wins when several rules match.' }),
    resourceType: t.field({ type: ResourceType, required: true }),
    actionType: t.string({ required: true }),
    module: t.string({ description: 'Narrows the rule to records of one module.' }),
    conditions: t.field({ type: 'JSON', description: 'JSONLogic over the action facts; a JSON string is accepted too.' }),
    primaryResolver: t.field({ type: ResolverInput, required: true }),
    fallbackResolver: t.field({ type: ResolverInput }),
    expiresAfterSeconds: t.int(),
    escalateAfterSeconds: t.int({ description: 'Hand the request to the fallback when the primary has not decided in this time.' }),
    allowSelfApproval: t.boolean({ defaultValue: false }),
    allowEdit: t.boolean({ defaultValue: true, description: 'Whether reviewers may approve with edited parameters (default true).' }),
    onExpiry: t.field({ type: ExpiryAction, defaultValue: 'EXPIRE', description: 'What the deadline does to a request nobody decided (expiresAfterSeconds).' }),
    requiredApprovals: t.int({ defaultValue: 1, description: 'Approvals the first stage needs (1 to 50); its reviewers each approve once.' }),
    nextStages: t.field({ type: [ApprovalStageInput], description: 'Stages decided in order after the first one (at most 9); the expiry covers them all.' }),
  }),
})

type ResolverArg = { type: ResolverSpecShape['type']; userId?: string | null; roleKey?: string | null; agentId?: string | null; delaySeconds?: number | null }

function decodeResolver(r: ResolverArg, field: string): rules.ResolverInput {
  return {
    ...r,
    userId: parseOptionalId(r.userId, ['User'], `${field}.userId`),
    agentId: parseOptionalId(r.agentId, ['Agent'], `${field}.agentId`),
  }
}

function decodeRuleInput(input: typeof ApprovalRuleInput.$inferInput): rules.RuleInput {
  return {
    ...input,
    primaryResolver: decodeResolver(input.primaryResolver, 'input.primaryResolver'),
    fallbackResolver: input.fallbackResolver ? decodeResolver(input.fallbackResolver, 'input.fallbackResolver') : null,
    nextStages: input.nextStages?.map((stage, i) => ({
      ...stage,
      primaryResolver: decodeResolver(stage.primaryResolver, `input.nextStages.${i}.primaryResolver`),
      fallbackResolver: stage.fallbackResolver ? decodeResolver(stage.fallbackResolver, `input.nextStages.${i}.fallbackResolver`) : null,
    })),
  }
}

// ---- queries

builder.queryFields((t) => ({
  approvalRules: t.field({
    type: [ApprovalRule],
    authScopes: { permission: 'approval:manage' },
    resolve: async (_root, _args, ctx) => (await rules.listRules(ctx.prisma)).map((r) => shown(r, true)),
  }),
  approvalRule: t.field({
    type: ApprovalRule,
    nullable: true,
    authScopes: { permission: 'approval:manage' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => managed(await rules.getRule(ctx.prisma, parseId(id, ['ApprovalRule'], 'id').id)),
  }),
  testApprovalRule: t.field({
    type: RuleTestResult,
    description:
      'Dry run of a rule being edited, before it is saved: whether it would gate the sample action (asked as the caller), and which saved rule it competes with. ruleId names the saved rule the input edits, whose saved version then does not compete. Validates the rule as createApprovalRule does; writes nothing.',
    authScopes: { permission: 'approval:manage' },
    args: {
      input: t.arg({ type: ApprovalRuleInput, required: true }),
      sample: t.arg({ type: RequestApprovalInput, required: true }),
      ruleId: t.arg.id(),
    },
    resolve: async (_root, { input, sample, ruleId }, ctx) => {
      const rule = decodeRuleInput(input)
      let action
      try {
        action = decodeRequestInput(sample)
      } catch (err) {
        throw rules.asSampleError(err)
      }
      return rules.testRule(ctx.prisma, ctx.viewer!, rule, action, {
        ruleId: parseOptionalId(ruleId, ['ApprovalRule'], 'ruleId') ?? null,
        limits: ctx.limits ?? defaultLimits,
        now: ctx.clock.now(),
      })
    },
  }),
}))

// ---- mutations

builder.mutationFields((t) => ({
  createApprovalRule: t.field({
    type: ApprovalRule,
    authScopes: { permission: 'approval:manage' },
    args: { input: t.arg({ type: ApprovalRuleInput, required: true }) },
    resolve: async (_root, { input }, ctx) => shown(announced(ctx, await rules.createRule(ctx.prisma, ctx.viewer!.id, decodeRuleInput(input))), true),
  }),
  updateApprovalRule: t.field({
    type: ApprovalRule,
    description: 'Replaces the rule. Requests it already created keep the version they matched.',
    authScopes: { permission: 'approval:manage' },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: ApprovalRuleInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) =>
      shown(announced(ctx, await rules.updateRule(ctx.prisma, ctx.viewer!.id, parseId(id, ['ApprovalRule'], 'id').id, decodeRuleInput(input))), true),
  }),
  deleteApprovalRule: t.boolean({
    authScopes: { permission: 'approval:manage' },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const ruleId = parseId(id, ['ApprovalRule'], 'id').id
      const deleted = await rules.deleteRule(ctx.prisma, ruleId)
      announced(ctx, { id: ruleId })
      return deleted
    },
  }),
}))
