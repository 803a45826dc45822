// Approval rules: validation, storage, testing a draft, and the snapshot a request keeps of the rule it matched.
import { z } from 'zod'
import { Prisma, type PrismaClient } from '../db.js'
import { userExists } from '../directory/directory.js'
import { ApiError, badInput, notFound, type ErrorCode } from '../errors.js'
import type { ApprovalRule, ExpiryAction, ResolverType, ResourceType } from '../generated/prisma/client.js'
import type { Viewer } from '../auth/viewer.js'
import { checkActionType, readActionType } from './catalogue.js'
import equal from 'fast-deep-equal'
import { createFactTypes } from './condition-facts.js'
import { checkConditions, evaluateConditions, parseConditions, typeConditions } from './conditions.js'
import { actionFacts, bestRule, type RequestInput, type RequestSettings } from './requests.js'

/** A resolver as stored: ids are database ids. */
export interface ResolverSpec {
  type: ResolverType
  userId?: string
  roleKey?: string
  agentId?: string
  delaySeconds?: number
}

/** One stage of a rule after its first: who decides, who takes over, how many approvals it needs. */
export interface StageSpec {
  name: string | null
  primaryResolver: ResolverSpec
  fallbackResolver: ResolverSpec | null
  requiredApprovals: number
  escalateAfterSeconds: number | null
}

/** A rule as the API shows it, whether read live or from a request's snapshot. */
export interface RuleView {
  id: string
  name: string
  description: string | null
  enabled: boolean
  priority: number
  resourceType: ResourceType
  actionType: string
  module: string | null
  conditions: unknown
  primaryResolver: ResolverSpec
  fallbackResolver: ResolverSpec | null
  expiresAfterSeconds: number | null
  escalateAfterSeconds: number | null
  allowSelfApproval: boolean
  /** Whether reviewers may approve with edited parameters. */
  allowEdit: boolean
  /** What the deadline does to a request nobody decided: EXPIRE it, or APPROVE it. */
  onExpiry: ExpiryAction
  /** Approvals the first stage needs. */
  requiredApprovals: number
  /** The stages decided in order after the first one. */
  nextStages: StageSpec[]
  version: number
  createdById: string | null
  updatedById: string | null
  createdAt: Date
  updatedAt: Date
}

export function ruleView(row: ApprovalRule): RuleView {
  return {
    ...row,
    conditions: row.conditions ?? null,
    primaryResolver: row.primaryResolver as unknown as ResolverSpec,
    fallbackResolver: (row.fallbackResolver as unknown as ResolverSpec | null) ?? null,
    nextStages: (row.nextStages as unknown as StageSpec[] | null) ?? [],
  }
}

/** Stage `n` of a rule (from 1): the first is the rule's own resolvers. */
export function stageOf(rule: RuleView, n: number): StageSpec {
  if (n <= 1) {
    return {
      name: null,
      primaryResolver: rule.primaryResolver,
      fallbackResolver: rule.fallbackResolver,
      requiredApprovals: rule.requiredApprovals,
      escalateAfterSeconds: rule.escalateAfterSeconds,
    }
  }
  return rule.nextStages[n - 2]!
}

/** What a request stores of its rule: JSON, so dates travel as strings. */
export function ruleSnapshot(rule: RuleView): Prisma.InputJsonValue {
  return JSON.parse(JSON.stringify(rule)) as Prisma.InputJsonValue
}

export function ruleFromSnapshot(snapshot: unknown): RuleView {
  const s = snapshot as RuleView & { createdAt: string; updatedAt: string }
  // snapshots taken before rules had these options behave as the options' defaults
  return {
    ...s,
    allowEdit: s.allowEdit ?? true,
    onExpiry: s.onExpiry ?? 'EXPIRE',
    requiredApprovals: s.requiredApprovals ?? 1,
    nextStages: s.nextStages ?? [],
    createdAt: new Date(s.createdAt), updatedAt: new Date(s.updatedAt) }
}

/** A resolver as the API takes it: ids already decoded from global IDs. */
export interface ResolverInput {
  type: ResolverType
  userId?: string | null
  roleKey?: string | null
  agentId?: string | null
  delaySeconds?: number | null
}

export interface RuleInput {
  name: string
  description?: string | null
  enabled?: boolean | null
  priority?: number | null
  resourceType: ResourceType
  actionType: string
  module?: string | null
  conditions?: unknown
  primaryResolver: ResolverInput
  fallbackResolver?: ResolverInput | null
  expiresAfterSeconds?: number | null
  escalateAfterSeconds?: number | null
  allowSelfApproval?: boolean | null
  allowEdit?: boolean | null
  onExpiry?: ExpiryAction | null
  requiredApprovals?: number | null
  nextStages?: StageInput[] | null
}

export interface StageInput {
  name?: string | null
  primaryResolver: ResolverInput
  fallbackResolver?: ResolverInput | null
  requiredApprovals?: number | null
  escalateAfterSeconds?: number | null
}

/** The most stages a rule has, its first included. */
export const MAX_STAGES = 10
/** The most approvals one stage may need. */
export const MAX_REQUIRED_APPROVALS = 50

const FIELDS_BY_TYPE: Record<ResolverType, (keyof ResolverInput)[]> = {
  NAMED_USER: ['userId'],
  ROLE: ['roleKey'],
  AGENT: ['agentId'],
  AUTO_APPROVE: ['delaySeconds'],
  MANAGER: [],
  RECORD_OWNER: [],
}

/** The longest expiry, escalation or auto-approval delay: a year. */
const MAX_SECONDS = 365 * 24 * 3600

async function validateResolver(tx: Prisma.TransactionClient, input: ResolverInput, field: string): Promise<ResolverSpec> {
  const wanted = FIELDS_BY_TYPE[input.type]
  for (const key of ['userId', 'roleKey', 'agentId', 'delaySeconds'] as const) {
    const given = input[key] !== null && input[key] !== undefined
    if (wanted.includes(key) && !given) throw badInput(`A ${input.type} resolver needs ${key}.`, `${field}.${key}`)
    if (!wanted.includes(key) && given) throw badInput(`A ${input.type} resolver takes no ${key}.`, `${field}.${key}`)
  }
  switch (input.type) {
    case 'NAMED_USER':
      if (!(await userExists(tx, input.userId!))) throw badInput('No user with this id.', `${field}.userId`)
      return { type: 'NAMED_USER', userId: input.userId! }
    case 'ROLE':
      if (!(await tx.role.findUnique({ where: { key: input.roleKey! }, select: { id: true } }))) {
        throw badInput(`Unknown role key: ${input.roleKey}.`, `${field}.roleKey`)
      }
      return { type: 'ROLE', roleKey: input.roleKey! }
    case 'AGENT':
      if (!(await tx.agent.findUnique({ where: { id: input.agentId! }, select: { id: true } }))) {
        throw badInput('No agent with this id.', `${field}.agentId`)
      }
      return { type: 'AGENT', agentId: input.agentId! }
    case 'AUTO_APPROVE':
      if (!Number.isInteger(input.delaySeconds) || input.delaySeconds! < 0 || input.delaySeconds! > MAX_SECONDS) {
        throw badInput('delaySeconds must be 0 or more, and at most a year.', `${field}.delaySeconds`)
      }
      return { type: 'AUTO_APPROVE', delaySeconds: input.delaySeconds! }
    default:
      return { type: input.type }
  }
}

const approvals = z
  .number()
  .int()
  .min(1, 'requiredApprovals must be at least 1')
  .max(MAX_REQUIRED_APPROVALS, `requiredApprovals must be at most ${MAX_REQUIRED_APPROVALS}`)
const seconds = (field: string) =>
  z.number().int().positive(`${field} must be a positive number of seconds`).max(MAX_SECONDS, `${field} must be at most a year`)

const RuleShape = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(200),
  description: z.string().trim().max(2000).nullish(),
  priority: z.number().int().min(-1_000_000).max(1_000_000).nullish(),
  module: z.string().trim().min(1, 'module must not be empty when given').max(100).nullish(),
  expiresAfterSeconds: seconds('expiresAfterSeconds').nullish(),
  escalateAfterSeconds: seconds('escalateAfterSeconds').nullish(),
  requiredApprovals: approvals.nullish(),
  nextStages: z
    .array(
      z.object({
        name: z.string().trim().max(200).nullish(),
        requiredApprovals: approvals.nullish(),
        escalateAfterSeconds: seconds('escalateAfterSeconds').nullish(),
      }),
    )
    .max(MAX_STAGES - 1, `a rule has at most ${MAX_STAGES} stages, the first included`)
    .nullish(),
})

/** A rule input once validated: the definition to store, with resolvers as stored. */
type ValidRule = Omit<RuleView, 'id' | 'version' | 'createdById' | 'updatedById' | 'createdAt' | 'updatedAt'>

/** Validates a rule input against the catalogue and the directory; returns the definition to store. */
async function validateRule(tx: Prisma.TransactionClient, input: RuleInput, stored?: { actionType: string; conditions: unknown }): Promise<ValidRule> {
  const shape = RuleShape.safeParse(input)
  if (!shape.success) {
    const issue = shape.error.issues[0]!
    throw badInput(issue.message, `input.${issue.path.join('.')}`)
  }
  // read in the transaction, not from memory: a delete of the type waits for it (bumpRuleSet)
  const action = await checkActionType(tx, input.resourceType, input.actionType)
  // a stored rule's conditions given back unchanged (its enabled toggle, a new name) keep their
  // meaning even where today's check would refuse or rewrite them: they stay as they are, flagged
  // by conditionWarnings, until someone edits them
  const unchanged = stored && stored.actionType === input.actionType && equal(parseConditions(input.conditions), stored.conditions ?? null)
  const conditions = unchanged ? (stored.conditions as object | null) : checkConditions(input.conditions, createFactTypes(action))
  const primaryResolver = await validateResolver(tx, input.primaryResolver, 'input.primaryResolver')
  const fallbackResolver = input.fallbackResolver ? await validateResolver(tx, input.fallbackResolver, 'input.fallbackResolver') : null
  const nextStages: StageSpec[] = []
  for (const [i, stage] of (input.nextStages ?? []).entries()) {
    const at = `input.nextStages.${i}`
    nextStages.push({
      name: shape.data.nextStages![i]!.name || null,
      primaryResolver: await validateResolver(tx, stage.primaryResolver, `${at}.primaryResolver`),
      fallbackResolver: stage.fallbackResolver ? await validateResolver(tx, stage.fallbackResolver, `${at}.fallbackResolver`) : null,
      requiredApprovals: stage.requiredApprovals ?? 1,
      escalateAfterSeconds: stage.escalateAfterSeconds ?? null,
    })
  }
  return {
    name: shape.data.name,
    description: shape.data.description || null,
    enabled: input.enabled ?? true,
    priority: input.priority ?? 0,
    resourceType: input.resourceType,
    actionType: input.actionType,
    module: shape.data.module ?? null,
    conditions,
    primaryResolver,
    fallbackResolver,
    expiresAfterSeconds: input.expiresAfterSeconds ?? null,
    escalateAfterSeconds: input.escalateAfterSeconds ?? null,
    allowSelfApproval: input.allowSelfApproval ?? false,
    allowEdit: input.allowEdit ?? true,
    onExpiry: input.onExpiry ?? 'EXPIRE',
    requiredApprovals: input.requiredApprovals ?? 1,
    nextStages,
  }
}

/** The columns that store a validated rule. */
function ruleColumns(rule: ValidRule) {
  return {
    ...rule,
    conditions: (rule.conditions as Prisma.InputJsonValue | null) ?? Prisma.DbNull,
    primaryResolver: rule.primaryResolver as unknown as Prisma.InputJsonValue,
    fallbackResolver: (rule.fallbackResolver as unknown as Prisma.InputJsonValue | null) ?? Prisma.DbNull,
    nextStages: rule.nextStages as unknown as Prisma.InputJsonValue,
  }
}

export async function createRule(prisma: PrismaClient, actorUserId: string, input: RuleInput): Promise<RuleView> {
  return prisma.$transaction(async (tx) => {
    // first: a deleteActionType of the type it names runs before this or after it
    await bumpRuleSet(tx)
    const data = ruleColumns(await validateRule(tx, input))
    return ruleView(await tx.approvalRule.create({ data: { ...data, createdById: actorUserId, updatedById: actorUserId } }))
  })
}

/** Replaces a rule's definition. Requests already created keep the version they matched. */
export async function updateRule(prisma: PrismaClient, actorUserId: string, id: string, input: RuleInput): Promise<RuleView> {
  return prisma.$transaction(async (tx) => {
    // first: a deleteActionType of the type it names runs before this or after it
    await bumpRuleSet(tx)
    const stored = await tx.approvalRule.findUnique({ where: { id }, select: { actionType: true, conditions: true } })
    if (!stored) throw notFound('Approval rule')
    const data = ruleColumns(await validateRule(tx, input, stored))
    return ruleView(
      await tx.approvalRule.update({ where: { id }, data: { ...data, updatedById: actorUserId, version: { increment: 1 } } }),
    )
  })
}

/** Deletes a rule; requests it created keep their snapshot of it. */
export async function deleteRule(prisma: PrismaClient, id: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.approvalRule.deleteMany({ where: { id } })
    if (count === 0) throw notFound('Approval rule')
    await bumpRuleSet(tx)
    return true
  })
}

/** The enabled rules of one action, highest priority first, and the version of the rule set they belong to. */
export interface ActionRules {
  setVersion: number
  rules: RuleView[]
}

type Db = Prisma.TransactionClient | PrismaClient

/**
 * Every change of a rule bumps the rule set's version in its transaction. The update takes the
 * row's lock, so it waits for the requests holding it FOR SHARE (lockRuleSet), and for another
 * change of the rules or of the action types they name (deleteActionType) until it commits.
 */
export async function bumpRuleSet(tx: Prisma.TransactionClient) {
  await tx.$executeRaw`UPDATE "RuleSet" SET "version" = "version" + 1 WHERE "id" = 1`
}

/** The rule set's version, held FOR SHARE until the transaction ends: no rule changes meanwhile. */
export async function lockRuleSet(tx: Prisma.TransactionClient): Promise<number> {
  const [row] = await tx.$queryRaw<{ version: number }[]>`SELECT "version" FROM "RuleSet" WHERE "id" = 1 FOR SHARE`
  return Number(row!.version)
}

/** The enabled rules for an action (any module), ordered for matching. */
export async function readEnabledRules(db: Db, resourceType: ResourceType, actionType: string): Promise<ActionRules> {
  // the version first: rules read after it are as new or newer, so a check against it may find
  // them stale when they are not, never current when they are not
  const [row] = await db.$queryRaw<{ version: number }[]>`SELECT "version" FROM "RuleSet" WHERE "id" = 1`
  const rows = await db.approvalRule.findMany({
    where: { enabled: true, resourceType, actionType },
    orderBy: [{ priority: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }],
  })
  return { setVersion: Number(row!.version), rules: await asMeant(db, actionType, rows.map(ruleView)) }
}

/**
 * Rules as they are evaluated: conditions stored before they were typed mean what their author
 * wrote, as the save-time check would rewrite them ("to contains '@evil.com'" over a list of
 * recipients: some recipient contains it), so that an upgrade closes the gap they left open at
 * once; what the check would refuse is evaluated as stored. conditionWarnings flags both.
 */
async function asMeant(db: Db, actionType: string, rules: RuleView[]): Promise<RuleView[]> {
  if (!rules.some((r) => r.conditions)) return rules
  const action = await readActionType(db, actionType)
  if (!action) return rules
  const factTypes = createFactTypes(action)
  return rules.map((rule) => {
    if (!rule.conditions || typeof rule.conditions !== 'object') return rule
    const typed = typeConditions(rule.conditions, factTypes)
    return typed.rewrites.length > 0 ? { ...rule, conditions: typed.logic } : rule
  })
}

export async function listRules(prisma: PrismaClient): Promise<RuleView[]> {
  const rows = await prisma.approvalRule.findMany({
    orderBy: [{ resourceType: 'asc' }, { actionType: 'asc' }, { priority: 'desc' }, { createdAt: 'asc' }],
  })
  return rows.map(ruleView)
}

export async function getRule(prisma: PrismaClient, id: string): Promise<RuleView | null> {
  const row = await prisma.approvalRule.findUnique({ where: { id } })
  return row && ruleView(row)
}

/** What a draft rule would do to a sample action (testApprovalRule). */
export interface RuleTest {
  /** Whether the draft, saved as it is, would gate the sample: it applies, and no saved rule outranks it. */
  gates: boolean
  /** Whether the draft applies to the sample on its own: enabled, for its action and module, its conditions holding. */
  applies: boolean
  /** Whether the draft's conditions hold for the sample's facts (no conditions always hold). */
  conditionsHold: boolean
  /** Why the draft's conditions could not be evaluated; they then count as holding, as when matching. */
  conditionError: string | null
  /** The saved rule that gates the sample now, the draft's own saved version left out: the one the draft competes with. */
  competingRule: RuleView | null
}

/**
 * Tests a rule as it is being edited, before it is saved: validates it as createRule would
 * (BAD_USER_INPUT), builds the sample's facts as requestApproval would (asked by `viewer`), and
 * ranks the draft among the saved enabled rules as matching does. `ruleId` names the rule the
 * draft edits: its saved version does not compete, and the draft keeps its age. The transaction
 * is read-only, so nothing it runs can write.
 */
export async function testRule(
  prisma: PrismaClient,
  viewer: Viewer,
  input: RuleInput,
  sample: RequestInput,
  options: { ruleId: string | null; limits: RequestSettings; now: Date },
): Promise<RuleTest> {
  const { ruleId, limits, now } = options
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SET TRANSACTION READ ONLY`
    const valid = await validateRule(tx, input)
    const saved = ruleId ? await tx.approvalRule.findUnique({ where: { id: ruleId }, select: { createdAt: true } }) : null
    if (ruleId && !saved) throw notFound('Approval rule')
    const facts = await actionFacts(tx, viewer, sample, limits).catch((err: unknown) => {
      throw asSampleError(err)
    })
    const draft: RuleView = {
      ...valid,
      id: ruleId ?? 'draft',
      version: 0,
      createdById: viewer.kind === 'user' ? viewer.id : null,
      updatedById: viewer.kind === 'user' ? viewer.id : null,
      createdAt: saved?.createdAt ?? now,
      updatedAt: now,
    }
    const others = (await readEnabledRules(tx, sample.resourceType, sample.actionType)).rules.filter((r) => r.id !== ruleId)
    const competing = bestRule(others, facts)
    const { holds, error } = evaluateConditions(draft.conditions, facts)
    const forThisAction = draft.resourceType === facts.resourceType && draft.actionType === facts.actionType && (draft.module === null || draft.module === facts.module)
    const applies = draft.enabled && forThisAction && holds
    // bestRule breaks ties by the order it is given: oldest first, as the rules are read
    const byAge = [...others, draft].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const gates = applies && bestRule(byAge, facts)?.rule === draft
    return { gates, applies, conditionsHold: holds, conditionError: error, competingRule: competing?.rule ?? null }
  })
}

/**
 * An input error of a sample action, named after testApprovalRule's argument: requestApproval's
 * checks name its fields `input.params` and so on, which in a rule test is the rule.
 */
export function asSampleError(err: unknown): unknown {
  if (!(err instanceof ApiError) || typeof err.extensions.field !== 'string') return err
  const { code, http: _http, field, ...rest } = err.extensions
  return new ApiError(code as ErrorCode, err.message, { ...rest, field: field.replace(/^input\./, 'sample.') })
}
