// Approval requests: matching a rule, creating the request with its reviewers and deadlines,
// deciding, cancelling, and who may see what. Each state change is one transaction.
import { createHash } from 'node:crypto'
import fastJsonPatch, { type Operation } from 'fast-json-patch'
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay'
import { principalColumn, type Parties, type Person, type Viewer } from '../auth/viewer.js'
import { userExists } from '../directory/directory.js'
import { Prisma, type PrismaClient } from '../db.js'
import { ApiError, badInput, conflict, forbidden, notFound } from '../errors.js'
import type { ApprovalRequest, ApprovalStatus, ResourceType } from '../generated/prisma/client.js'
import { checkActionType, checkParams, findActionType, paramsForConditions, type ActionTypeRegistry } from './catalogue.js'
import { evaluateConditions, type ActionFacts } from './conditions.js'
import { mayAssignOwner, mayRead, recordScope } from './record-access.js'
import { privateModules, type ModuleVisibilityCache } from './record-visibility.js'
import { createExecution, recordServerExecution } from './executions.js'
import { MAX_NAMED_PRINCIPALS } from './notify.js'
import { executeRecordMutation, recordDataProblem } from './records.js'
import { admittedWithout, assign, NO_REVIEWERS, principalOf, type Admitted, type Assignment, type ReviewSubject } from './reviewers.js'
import type { RuleCache } from './rule-cache.js'
import { decideRequest, insertRequest, type NewEvent, type NewRequest } from './request-writes.js'
import { lockRuleSet, readEnabledRules, ruleFromSnapshot, ruleSnapshot, stageOf, type RuleView } from './rules.js'
import { approveInStage, delegationEvents, lockRequest, passStage, subjectOf, voidStageVotes, type DecisionChannelName } from './stages.js'

type Tx = Prisma.TransactionClient

const { compare } = fastJsonPatch
export interface RequestInput {
  resourceType: ResourceType
  actionType: string
  params: unknown
  module?: string | null
  /** As the caller gave it: a Record's global ID, or an id of the caller's own. */
  recordId?: string | null
  summary?: string | null
  context?: unknown
  /** A user's database id. */
  onBehalfOfUserId?: string | null
  idempotencyKey?: string | null
}

export type RequestOutcome =
  | { approvalRequired: false; request: null }
  /** `reviewers`: the ids of the reviewers a new request was given, when known without a read. */
  | { approvalRequired: true; request: ApprovalRequest; created: boolean; reviewers?: string[] }

const seconds = (date: Date, s: number) => new Date(date.getTime() + s * 1000)

/** JSON with sorted keys, so that equal inputs give equal fingerprints. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

function fingerprint(input: RequestInput): string {
  const { idempotencyKey: _key, ...rest } = input
  return createHash('sha256').update(stableJson(rest)).digest('hex')
}

const requesterColumns = (viewer: Viewer) =>
  viewer.kind === 'user' ? { requesterUserId: viewer.id } : { requesterAgentId: viewer.id }
const actorColumns = (actor: Viewer | null) =>
  actor === null ? {} : actor.kind === 'user' ? { actorUserId: actor.id } : { actorAgentId: actor.id }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Parameters and context larger than this (as JSON, in bytes) are refused. */
export const DEFAULT_MAX_JSON_BYTES = 256 * 1024

export interface RequestSettings {
  /** The largest params and context, each, as JSON bytes. */
  maxJsonBytes: number
  /** The enabled rules, kept in memory (none: read on each request). */
  rules?: RuleCache
  /** The action types, the custom ones kept in memory (none: read on each request). */
  actionTypes?: ActionTypeRegistry
  /** Which modules' records are PRIVATE, kept in memory (none: read when a record is named). */
  modules?: ModuleVisibilityCache
}

const PERSON = { id: true, email: true, roles: { select: { key: true } } } as const

/**
 * The requester's name and the person an action is for. A user acts for themselves. An agent
 * acts for its owner, or for a user it has been allowed to act for (Agent.actsFor, kept by
 * directory managers): it may not pick who the action is for, since that picks the MANAGER who
 * reviews it, who counts as "self" for self-approval, and the roles conditions see.
 */
async function resolveParties(tx: Tx, viewer: Viewer, onBehalfOfUserId: string | null | undefined) {
  if (viewer.kind === 'user' && onBehalfOfUserId && onBehalfOfUserId !== viewer.id) {
    throw forbidden('A user requests approval for themselves; only agents act on behalf of someone.')
  }
  const { name, people } = viewer.parties ?? (await readParties(tx, viewer))
  const person = (id: string | null) => people.find((p) => p.id === id) ?? null
  if (viewer.kind === 'user') return { requesterName: name, requesterOwnerId: null, onBehalfOf: person(viewer.id) }
  const parties = { requesterName: name, requesterOwnerId: viewer.ownerId }
  const target = onBehalfOfUserId ?? null
  if (!target || target === viewer.ownerId) return { ...parties, onBehalfOf: person(viewer.ownerId) }
  // only the people the agent may act for are in its parties; its owner is one of them
  const allowed = viewer.actsForUserIds.includes(target) ? person(target) : null
  if (!allowed) {
    throw forbidden("This agent may not act for that user: an agent acts for its owner, or for the users a directory manager allowed (Agent.actsFor).")
  }
  return { ...parties, onBehalfOf: allowed }
}

/** The parties of a viewer that did not come with them (made by hand, not read with a token). */
async function readParties(tx: Tx, viewer: Viewer): Promise<Parties> {
  const toPerson = (u: { id: string; email: string; roles: { key: string }[] }): Person => ({ id: u.id, email: u.email, roleKeys: u.roles.map((r) => r.key) })
  if (viewer.kind === 'user') {
    const user = await tx.user.findUniqueOrThrow({ where: { id: viewer.id }, select: { ...PERSON, name: true } })
    return { name: user.name, people: [toPerson(user)] }
  }
  const agent = await tx.agent.findUniqueOrThrow({ where: { id: viewer.id }, select: { name: true, owner: { select: PERSON }, actsFor: { select: PERSON } } })
  return { name: agent.name, people: [...(agent.owner ? [agent.owner] : []), ...agent.actsFor].map(toPerson) }
}

/** The records-store record a request names, if its recordId is a Record's ID. */
async function resolveRecordRef(tx: Tx, resourceType: ResourceType, recordId: string | null, module: string | null) {
  if (!recordId) return null
  let decoded: { typename: string; id: string } | null = null
  try {
    decoded = decodeGlobalID(recordId)
  } catch {
    decoded = null
  }
  if (decoded?.typename !== 'Record' || !UUID.test(decoded.id)) {
    if (resourceType === 'RECORD_MUTATION') throw badInput('recordId must be the ID of a record.', 'input.recordId')
    return null // an id of the caller's own system: kept, but names no record here
  }
  const record = await tx.record.findUnique({ where: { id: decoded.id }, select: { id: true, module: true, ownerId: true } })
  if (!record) throw badInput('No record with this id.', 'input.recordId')
  if (module && record.module !== module) {
    throw badInput(`The record belongs to module ${record.module}, not ${module}.`, 'input.module')
  }
  return record
}

/** The database id in a User's global ID, or null when `id` is not one. */
function userIdOf(id: string): string | null {
  try {
    const decoded = decodeGlobalID(id)
    return decoded.typename === 'User' && UUID.test(decoded.id) ? decoded.id : null
  } catch {
    return null
  }
}

/** The record, if the viewer may read it; a record one may not read is answered as one that does not exist. */
async function readable<T extends { module: string; ownerId: string | null }>(db: Tx, viewer: Viewer, record: T | null, limits: RequestSettings): Promise<T | null> {
  if (record && !mayRead(recordScope(viewer), record, await privateModules(db, limits.modules))) throw badInput('No record with this id.', 'input.recordId')
  return record
}

const paramsError = (pointer: string, message: string) =>
  new ApiError('BAD_USER_INPUT', `params${pointer} ${message}`, { field: 'input.params', pointer })

function jsonBytes(value: unknown): number {
  return value === undefined || value === null ? 0 : Buffer.byteLength(JSON.stringify(value))
}

/**
 * BAD_USER_INPUT (on `field`) when a JSON value an API client gives is larger, as JSON, than
 * `maxJsonBytes` (APPROVALS_MAX_JSON_BYTES): the one limit of params, context, edits and results.
 */
export function checkJsonSize(value: unknown, name: string, field: string, maxJsonBytes: number) {
  if (jsonBytes(value) > maxJsonBytes) throw badInput(`${name} must be at most ${maxJsonBytes} bytes as JSON.`, field)
}

interface Prepared {
  facts: ActionFacts
  /** What is stored and run: the params as given (a create_record's owner defaults to the person it is for). */
  params: unknown
  module: string | null
  recordId: string | null
  onBehalfOfId: string | null
  requesterOwnerId: string | null
  recordRefId: string | null
}

/**
 * A record mutation's params, checked against what the requester may do with records: the
 * record must be one it may read, and a change of owner needs record:manage or being the
 * current owner. Returns the params to store, module and record id.
 */
async function prepareRecordMutation(tx: Tx, viewer: Viewer, input: RequestInput, onBehalfOfId: string | null, limits: RequestSettings) {
  const params = { ...(input.params as Record<string, unknown>) }
  const problem = recordDataProblem(params.data)
  if (problem) throw paramsError(`/data${problem.pointer}`, problem.message)
  const isCreate = input.actionType === 'create_record'
  const own = isCreate ? 'module' : 'recordId'
  const given = input[own] ?? null
  if (given !== null && given !== params[own]) throw paramsError(`/${own}`, `must equal input.${own}`)
  // a record to be created names none yet: naming one would make its owner the RECORD_OWNER reviewer
  if (isCreate && input.recordId) throw badInput('A create_record request names no existing record: leave recordId out.', 'input.recordId')
  const module = isCreate ? (params.module as string) : (input.module ?? null)
  const recordId = isCreate ? (input.recordId ?? null) : (params.recordId as string)
  const record = await readable(tx, viewer, await resolveRecordRef(tx, 'RECORD_MUTATION', recordId, module), limits)
  const scope = recordScope(viewer)
  if (isCreate && !Object.hasOwn(params, 'ownerId')) params.ownerId = onBehalfOfId && encodeGlobalID('User', onBehalfOfId)
  if (Object.hasOwn(params, 'ownerId')) {
    // kept as the global ID the API shows; the database id is only for the checks
    let ownerId: string | null = null
    if (params.ownerId !== null) {
      ownerId = userIdOf(params.ownerId as string)
      if (!ownerId) throw paramsError('/ownerId', "must be a user's ID or null")
      if (!(await userExists(tx, ownerId))) throw paramsError('/ownerId', 'names no user')
    }
    const changes = isCreate ? ownerId !== onBehalfOfId : ownerId !== record!.ownerId
    if (changes && !mayAssignOwner(scope, isCreate ? undefined : record!.ownerId, ownerId)) {
      throw forbidden("Changing a record's owner needs record:manage or being its current owner.")
    }
  }
  return { params, module: module ?? record?.module ?? null, recordId, recordRefId: record?.id ?? null }
}

/** What can be checked of a request without the database (but for a custom action type not in memory): its action type, sizes and params. */
async function checkInput(db: Tx | PrismaClient, input: RequestInput, limits: RequestSettings) {
  const action = await checkActionType(db, input.resourceType, input.actionType, limits.actionTypes)
  for (const field of ['params', 'context'] as const) checkJsonSize(input[field], field, `input.${field}`, limits.maxJsonBytes)
  const problem = checkParams(action, input.params)
  if (problem) throw paramsError(problem.pointer, problem.message)
}

/**
 * An agent action that no cached rule could gate, with the same refusals as the full path
 * (its input, and whom the requester may act for, from its cached principal): it may proceed,
 * and nothing was read. Undefined when that cannot be told from memory.
 */
async function ungatedFromMemory(db: PrismaClient, viewer: Viewer, input: RequestInput, limits: RequestSettings): Promise<{ approvalRequired: false; request: null } | undefined> {
  if (!limits.rules || input.resourceType !== 'AGENT_ACTION' || input.recordId) return undefined
  const cached = limits.rules.peek(input.resourceType, input.actionType)
  if (!cached || cached.rules.some((rule) => rule.module === null || rule.module === (input.module ?? null))) return undefined
  await checkInput(db, input, limits)
  const target = input.onBehalfOfUserId
  if (viewer.kind === 'user' ? target && target !== viewer.id : target && !viewer.actsForUserIds.includes(target)) return undefined
  return { approvalRequired: false, request: null }
}

/** The facts a rule's conditions see for an action the viewer asks for, with the same checks as requestApproval; it writes nothing. */
export async function actionFacts(tx: Tx, viewer: Viewer, input: RequestInput, limits: RequestSettings): Promise<ActionFacts> {
  return (await prepare(tx, viewer, input, limits)).facts
}

async function prepare(tx: Tx, viewer: Viewer, input: RequestInput, limits: RequestSettings): Promise<Prepared> {
  await checkInput(tx, input, limits)
  const parties = await resolveParties(tx, viewer, input.onBehalfOfUserId)
  const onBehalfOf = parties.onBehalfOf
  const target =
    input.resourceType === 'RECORD_MUTATION'
      ? await prepareRecordMutation(tx, viewer, input, onBehalfOf?.id ?? null, limits)
      : {
          params: input.params,
          module: input.module ?? null,
          recordId: input.recordId ?? null,
          recordRefId: (await readable(tx, viewer, await resolveRecordRef(tx, input.resourceType, input.recordId ?? null, input.module ?? null), limits))?.id ?? null,
        }
  return {
    ...target,
    onBehalfOfId: onBehalfOf?.id ?? null,
    requesterOwnerId: parties.requesterOwnerId,
    facts: {
      resourceType: input.resourceType,
      actionType: input.actionType,
      module: target.module,
      recordId: target.recordId,
      params: paramsForConditions(input.actionType, input.params),
      context: input.context ?? null,
      requester: {
        id: encodeGlobalID(viewer.kind === 'user' ? 'User' : 'Agent', viewer.id),
        name: parties.requesterName,
        kind: viewer.kind === 'user' ? 'USER' : 'AGENT',
      },
      onBehalfOf: onBehalfOf
        ? { id: encodeGlobalID('User', onBehalfOf.id), email: onBehalfOf.email, roleKeys: [...onBehalfOf.roleKeys] }
        : null,
    },
  }
}

/**
 * The enabled rule that gates an action: among the rules for its resource type, action type
 * and module (or any module) whose conditions hold, the highest priority; ties go to a rule
 * with conditions, then to one for the specific module, then to the oldest.
 *
 * With a cache, the rules come from memory, and an action that no rule gates costs no query.
 * Before a match is relied on, the transaction takes the rule set FOR SHARE (a rule change waits
 * for it) and checks that the cache holds the current version; if not, it reads the rules again
 * under that lock. So a request is always made under the rule set as it is when it commits,
 * never under a rule that has changed since, whatever the cache held.
 */
export async function findMatchingRule(tx: Tx, facts: ActionFacts, cache?: RuleCache): Promise<RuleMatch | null> {
  const read = () => readEnabledRules(tx, facts.resourceType as ResourceType, facts.actionType)
  let rules = cache ? await cache.rulesFor(facts.resourceType as ResourceType, facts.actionType, read) : await read()
  let match = bestRule(rules.rules, facts)
  if (!match || !cache) return match
  if ((await lockRuleSet(tx)) !== rules.setVersion) {
    cache.invalidate()
    rules = await read()
    match = bestRule(rules.rules, facts)
  }
  return match
}

/** Among `rules` (ordered oldest first within a priority), the one that gates an action with these facts, as findMatchingRule ranks them. */
export function bestRule(rules: RuleView[], facts: ActionFacts): RuleMatch | null {
  const candidates = rules
    .filter((rule) => rule.module === null || rule.module === facts.module)
    .map((rule) => ({ rule, ...evaluateConditions(rule.conditions, facts) }))
    .filter((c) => c.holds)
  const rank = ({ rule: r }: { rule: RuleView }) => [r.priority, r.conditions ? 1 : 0, r.module ? 1 : 0]
  candidates.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)]
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!
    return 0 // already oldest first
  })
  const best = candidates[0]
  return best ? { rule: best.rule, conditionError: best.error } : null
}

/** The rule that gates an action, and why its conditions could not be evaluated when they could not (it gates then). */
export interface RuleMatch {
  rule: RuleView
  conditionError: string | null
}

/** Dry run: the rule that would gate this action, storing nothing. */
export async function matchApprovalRule(prisma: PrismaClient, viewer: Viewer, input: RequestInput, limits: RequestSettings): Promise<RuleView | null> {
  return prisma.$transaction(async (tx) => (await findMatchingRule(tx, (await prepare(tx, viewer, input, limits)).facts, limits.rules))?.rule ?? null)
}

/** Gives a request reviewers: only admitted ones (admitReviewers), each a new, active reviewer row. */
async function addReviewers(tx: Tx, requestId: string, reviewers: Admitted, now: Date) {
  if (reviewers.length === 0) return
  await tx.approvalReviewer.createMany({
    data: reviewers.map((r) => ({ requestId, userId: r.userId ?? null, agentId: r.agentId ?? null, assignedAt: now })),
  })
}

/**
 * Makes admitted former reviewers of a request reviewers again, on their latest row (whose
 * reactivation sends the notifications of a new review, as a new row would, and shows as ADDED
 * in their inboxes).
 */
export async function reinstateReviewers(tx: Tx, requestId: string, reviewers: Admitted) {
  if (reviewers.length === 0) return
  const rows = await tx.approvalReviewer.findMany({
    where: { requestId, OR: reviewers.map((r) => (r.userId ? { userId: r.userId } : { agentId: r.agentId })) },
    select: { id: true, userId: true, agentId: true, active: true },
    orderBy: { id: 'desc' },
  })
  const latest = new Map<string, { id: string; active: boolean }>()
  for (const row of rows) if (!latest.has((row.userId ?? row.agentId)!)) latest.set((row.userId ?? row.agentId)!, row)
  const ids = reviewers.map((r) => latest.get(principalOf(r))).filter((row) => row && !row.active).map((row) => row!.id)
  if (ids.length) await tx.approvalReviewer.updateMany({ where: { id: { in: ids } }, data: { active: true } })
}

/** The columns that follow from an assignment: resolver type, and the auto-approve deadline. */
function assignmentColumns(assignment: Assignment, now: Date) {
  const { resolution } = assignment
  return {
    resolverType: resolution.resolverType,
    autoApproveAt: resolution.kind === 'auto' ? seconds(now, resolution.delaySeconds) : null,
  }
}

/** The columns of a new request. */
function newRequest(viewer: Viewer, input: RequestInput, prepared: Prepared, match: RuleMatch, assignment: Assignment, inputHash: string, now: Date): NewRequest {
  const { rule } = match
  const escalated = assignment.escalations.length > 0
  return {
    resourceType: input.resourceType,
    actionType: input.actionType,
    params: prepared.params as Prisma.JsonValue,
    module: prepared.module,
    recordId: prepared.recordId,
    recordRefId: prepared.recordRefId,
    summary: input.summary ?? null,
    context: (input.context ?? null) as Prisma.JsonValue,
    conditionError: match.conditionError,
    ruleId: rule.id,
    ruleSnapshot: ruleSnapshot(rule) as Prisma.JsonValue,
    requesterUserId: viewer.kind === 'user' ? viewer.id : null,
    requesterAgentId: viewer.kind === 'agent' ? viewer.id : null,
    requesterKey: viewer.id,
    onBehalfOfId: prepared.onBehalfOfId,
    escalated,
    expiresAt: rule.expiresAfterSeconds ? seconds(now, rule.expiresAfterSeconds) : null,
    escalateAt:
      !escalated && rule.escalateAfterSeconds && assignment.resolution.kind === 'reviewers' ? seconds(now, rule.escalateAfterSeconds) : null,
    ...assignmentColumns(assignment, now),
    stage: 1,
    stageCount: 1 + rule.nextStages.length,
    requiredApprovals: rule.requiredApprovals,
    idempotencyKey: input.idempotencyKey || null,
    inputHash,
  }
}

/**
 * A new request's events: REQUESTED, ESCALATED when its first choice of reviewer could not take
 * it, and DELEGATED for each away reviewer whose delegate took their place.
 */
function newEvents(viewer: Viewer, input: RequestInput, assignment: Assignment): NewEvent[] {
  const { resolution } = assignment
  return [
    { type: 'REQUESTED', ...actorColumns(viewer), comment: input.summary ?? null },
    ...(assignment.escalations.length > 0 ? [{ type: 'ESCALATED' as const, comment: assignment.escalations.join('; ') }] : []),
    ...(resolution.kind === 'reviewers' ? delegationEvents(resolution.delegations) : []),
  ]
}

/**
 * requestApproval without a transaction, when the rules are cached: what is needed is read
 * (the reviewers, mostly; the principal and rules come from memory) and the request, its
 * reviewers and events are written in one statement, guarded by the rule set's version.
 * Undefined when this path cannot decide (an AUTO_APPROVE without delay, a rule set changed
 * meanwhile): the transactional path then runs from the start.
 */
async function requestAtOnce(
  prisma: PrismaClient,
  viewer: Viewer,
  input: RequestInput,
  now: Date,
  limits: RequestSettings & { rules: RuleCache },
  inputHash: string,
  existing: () => Promise<ApprovalRequest | null>,
): Promise<RequestOutcome | undefined> {
  const ungated = await ungatedFromMemory(prisma, viewer, input, limits)
  const previousOr = async (outcome: RequestOutcome) => {
    // a retry with a key finds the request its first call made, whatever the rules say now
    const previous = await existing()
    return previous ? ({ approvalRequired: true, request: previous, created: false } as const) : outcome
  }
  if (ungated) return previousOr(ungated)
  const prepared = await prepare(prisma, viewer, input, limits)
  const { facts } = prepared
  const rules = await limits.rules.rulesFor(input.resourceType, input.actionType, () => readEnabledRules(prisma, input.resourceType, input.actionType))
  const match = bestRule(rules.rules, facts)
  if (!match) return previousOr({ approvalRequired: false, request: null })
  const { rule } = match
  const assignment = await assign(prisma, stageOf(rule, 1), reviewSubject(viewer, prepared, rule), 'primary')
  if (assignment.resolution.kind === 'auto' && assignment.resolution.delaySeconds === 0) return undefined
  const reviewers = assignment.resolution.kind === 'reviewers' ? assignment.resolution.reviewers : NO_REVIEWERS
  const data = newRequest(viewer, input, prepared, match, assignment, inputHash, now)
  const written = await insertRequest(prisma, data, reviewers, newEvents(viewer, input, assignment), rules.setVersion, now)
  switch (written.kind) {
    case 'inserted':
      return { approvalRequired: true, request: written.request, created: true, reviewers: reviewers.map((r) => (r.userId ?? r.agentId)!) }
    case 'duplicate': {
      const previous = await existing()
      // taken by a request since deleted: let the transactional path say so
      return previous ? { approvalRequired: true, request: previous, created: false } : undefined
    }
    case 'stale':
      limits.rules.invalidate()
      return undefined
  }
}

/** Who may review a new request (admitReviewers): nobody voted yet. */
function reviewSubject(viewer: Viewer, prepared: Prepared, rule: RuleView): ReviewSubject {
  return {
    requesterUserId: viewer.kind === 'user' ? viewer.id : null,
    requesterAgentId: viewer.kind === 'agent' ? viewer.id : null,
    requesterOwnerId: prepared.requesterOwnerId,
    onBehalfOfId: prepared.onBehalfOfId,
    recordRefId: prepared.recordRefId,
    allowSelfApproval: rule.allowSelfApproval,
    voters: [],
  }
}

/**
 * Asks for approval of an action. Without a matching rule nothing is stored and the action may
 * proceed. With one, the request, its REQUESTED (and ESCALATED) events, its reviewers and
 * deadlines are written in one transaction; an AUTO_APPROVE rule without delay approves it at once.
 * A retry with the same idempotency key returns the same request.
 */
export async function requestApproval(
  prisma: PrismaClient,
  viewer: Viewer,
  input: RequestInput,
  now: Date,
  limits: RequestSettings = { maxJsonBytes: DEFAULT_MAX_JSON_BYTES },
): Promise<RequestOutcome> {
  const inputHash = fingerprint(input)
  const key = input.idempotencyKey || null
  const existing = async () => {
    if (!key) return null
    const found = await prisma.approvalRequest.findUnique({ where: { requesterKey_idempotencyKey: { requesterKey: viewer.id, idempotencyKey: key } } })
    if (found && found.inputHash !== inputHash) {
      throw badInput('This idempotency key was already used with a different input.', 'input.idempotencyKey')
    }
    return found
  }
  if (limits.rules) {
    const outcome = await requestAtOnce(prisma, viewer, input, now, { ...limits, rules: limits.rules }, inputHash, existing)
    if (outcome) return outcome
  }
  // a retry with a key finds the request its first call made, whatever the rules say now
  const previous = await existing()
  if (previous) return { approvalRequired: true, request: previous, created: false }
  try {
    return await prisma.$transaction(async (tx) => {
      const prepared = await prepare(tx, viewer, input, limits)
      const match = await findMatchingRule(tx, prepared.facts, limits.rules)
      if (!match) return { approvalRequired: false, request: null } as const
      const { rule } = match
      const assignment = await assign(tx, stageOf(rule, 1), reviewSubject(viewer, prepared, rule), 'primary')
      const data = newRequest(viewer, input, prepared, match, assignment, inputHash, now)
      const { context, ...rest } = data
      const request = await tx.approvalRequest.create({
        data: { ...rest, context: (context ?? Prisma.DbNull) as Prisma.InputJsonValue, ruleSnapshot: data.ruleSnapshot as Prisma.InputJsonValue, params: data.params as Prisma.InputJsonValue, createdAt: now },
      })
      if (assignment.resolution.kind === 'reviewers') await addReviewers(tx, request.id, assignment.resolution.reviewers, now)
      await tx.approvalEvent.createMany({
        data: newEvents(viewer, input, assignment).map((e) => ({ ...e, details: e.details as Prisma.InputJsonValue, requestId: request.id, at: now })),
      })
      if (assignment.resolution.kind === 'auto' && assignment.resolution.delaySeconds === 0) {
        // the first stage approves itself: the request is approved, or the next stage takes it
        const approved = await passStage(tx, request, null, `Approved automatically by rule "${rule.name}".`, now)
        return { approvalRequired: true, request: approved!, created: true } as const
      }
      return { approvalRequired: true, request, created: true } as const
    })
  } catch (err) {
    // a concurrent retry with the same key won the race: answer as that retry would have
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002' && key) {
      const winner = await existing()
      if (winner) return { approvalRequired: true, request: winner, created: false }
    }
    throw err
  }
}

/**
 * Moves a pending request to a final status, once: a conditional update that only one of any
 * number of concurrent callers wins (null for the others). Approving a record mutation runs it
 * here, in the same transaction.
 */
export async function finalize(
  tx: Tx,
  id: string,
  status: Exclude<ApprovalStatus, 'PENDING'>,
  actor: Viewer | null,
  comment: string | null,
  now: Date,
  guard: Prisma.ApprovalRequestWhereInput = {},
): Promise<ApprovalRequest | null> {
  const decision = status === 'APPROVED' || status === 'REJECTED'
  const { count } = await tx.approvalRequest.updateMany({
    where: { id, status: 'PENDING', ...guard },
    data: {
      status,
      decidedAt: now,
      escalateAt: null,
      autoApproveAt: null,
      ...(decision
        ? {
            decisionComment: comment,
            decidedByUserId: actor?.kind === 'user' ? actor.id : null,
            decidedByAgentId: actor?.kind === 'agent' ? actor.id : null,
          }
        : {}),
    },
  })
  if (count === 0) return null
  // nobody, under a deadline's guard: the scheduler (the audit trail says so)
  const scheduled = actor === null && Object.keys(guard).length > 0
  await tx.approvalEvent.create({ data: { requestId: id, type: status, ...actorColumns(actor), comment, at: now, ...(scheduled ? { details: { scheduled: true } } : {}) } })
  const request = await tx.approvalRequest.findUniqueOrThrow({ where: { id } })
  // what runs is what was approved: a reviewer's edit, or the params as asked
  const approved = { ...request, params: approvedParamsOf(request) }
  if (status === 'APPROVED' && request.resourceType === 'RECORD_MUTATION') {
    const outcome = await executeRecordMutation(tx, approved)
    // the execution first: the event's webhook (execution.finished) reports it as written
    await recordServerExecution(tx, approved, outcome, now)
    await tx.approvalEvent.create({ data: { requestId: id, type: outcome.type, comment: outcome.comment, at: now } })
    return tx.approvalRequest.findUniqueOrThrow({ where: { id } })
  }
  // the durable re-queue: the approved action waits, READY, for its requester's worker
  if (status === 'APPROVED') await createExecution(tx, approved, now)
  return request
}

/** Whether a request's deadline has passed: it can no longer be decided (the scheduler expires it soon). */
const isExpired = (request: Pick<ApprovalRequest, 'expiresAt'>, now: Date) => request.expiresAt !== null && request.expiresAt <= now
/** The same, as a condition on the rows it leaves: those not expired. */
const notExpired = (now: Date) => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }) satisfies Prisma.ApprovalRequestWhereInput

/** The requests a viewer may see: their own, those for them, those they review or reviewed; all with approval:view. */
export function visibleTo(viewer: Viewer): Prisma.ApprovalRequestWhereInput {
  if (viewer.permissions.has('approval:view')) return {}
  return {
    OR: [
      requesterColumns(viewer),
      ...(viewer.kind === 'user' ? [{ onBehalfOfId: viewer.id }] : []),
      { reviewers: { some: principalColumn(viewer) } },
    ],
  }
}

/** Pending requests the viewer may decide now (deadline not passed). */
export function decidableBy(viewer: Viewer, now: Date): Prisma.ApprovalRequestWhereInput {
  return {
    status: 'PENDING',
    reviewers: { some: { ...principalColumn(viewer), active: true } },
    ...notExpired(now),
  }
}

export async function getVisibleRequest(prisma: PrismaClient | Tx, viewer: Viewer, id: string) {
  return prisma.approvalRequest.findFirst({ where: { AND: [{ id }, visibleTo(viewer)] } })
}

const notPending = (r: ApprovalRequest) => conflict(`This request is no longer pending: it is ${r.status}.`)

/** A decided request, and, when known without a read, its reviewers past and present (ids, one past the notifier's bound at most). */
export interface Decision {
  request: ApprovalRequest
  principals?: string[]
}

/**
 * Approves or rejects a request, as one of its current reviewers. An agent action is decided in
 * two statements: a read of the request, then the guarded update with its event and execution
 * (request-writes.ts). When the guard fails (or for a record mutation, which runs in the
 * approving transaction), the transaction below decides it, or says why it cannot be decided.
 */
export async function decide(
  prisma: PrismaClient,
  viewer: Viewer,
  id: string,
  { status, comment, params }: DecisionInput,
  now: Date,
  options: { maxJsonBytes?: number; actionTypes?: ActionTypeRegistry; via?: DecisionChannel } = {},
): Promise<Decision> {
  if (params !== undefined && status !== 'APPROVED') throw badInput('Only an approval may change the params.', 'params')
  // an edit is checked once the viewer is known to be a reviewer: the transaction does that, as
  // does a channel's own work (a decision link is spent in the deciding transaction)
  if (params === undefined && !options.via?.before) {
    const current = await prisma.approvalRequest.findUnique({ where: { id } })
    if (current && current.status === 'PENDING' && current.resourceType === 'AGENT_ACTION' && !isExpired(current, now)) {
      // one reviewer past the notifier's bound: enough to know whether to name them
      const decided = await decideRequest(prisma, current, viewer, status, comment, now, MAX_NAMED_PRINCIPALS + 1, options.via?.channel)
      if (decided) return decided
    }
  }
  return {
    request: await decideInTransaction(prisma, viewer, id, { status, comment, params }, now, options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES, options.actionTypes, options.via),
  }
}

/**
 * Where a decision is made: the inbox, another client of the API, an email's decision link or a
 * Slack button. The decision's events name it (`details.channel`, written before they are hashed),
 * and `before` runs first in the deciding transaction, under the request's lock (a decision link
 * is used up there, so that it is spent exactly when the decision commits); throwing from it
 * refuses the decision.
 */
export interface DecisionChannel {
  channel: DecisionChannelName
  before?: (tx: Tx) => Promise<void>
}

/** A reviewer's decision: approve or reject, with a comment, and for an approval optionally the params edited. */
export interface DecisionInput {
  status: 'APPROVED' | 'REJECTED'
  comment: string | null
  /** The params to approve instead of the requested ones (approveRequest's `params`). */
  params?: unknown
}

/** A reviewer's edit, checked: the params to run, and the JSON Patch (RFC 6902) from the requested ones. */
export interface CheckedEdit {
  approvedParams: unknown
  patch: Operation[]
}

/** The params an approved request runs with: a reviewer's edit, or the requested ones. */
export function approvedParamsOf(request: Pick<ApprovalRequest, 'params' | 'approvedParams' | 'edited'>): Prisma.JsonValue {
  return request.edited ? request.approvedParams : request.params
}

/** What the owner of a record change may not edit: which record, which module, whose it becomes. */
const RECORD_TARGET_KEYS = ['module', 'recordId', 'ownerId'] as const

/**
 * Checks a reviewer's edit of a pending request's params: the rule must allow edits (FORBIDDEN),
 * the edit must satisfy the action type's schema and size limit (BAD_USER_INPUT with the JSON
 * pointer), and a record change's edit may change its data only (which record, module and owner
 * stay: changing them would bypass the requester's record permissions). Null when the edit
 * changes nothing of the version under review (the params, or an earlier stage's edit).
 */
export async function checkEdit(db: Tx | PrismaClient, request: ApprovalRequest, params: unknown, maxJsonBytes: number, actionTypes?: ActionTypeRegistry): Promise<CheckedEdit | null> {
  if (!requestRule(request).allowEdit) throw forbidden('The rule of this request does not allow approving with edited params.')
  checkJsonSize(params, 'params', 'params', maxJsonBytes)
  const action = await findActionType(db, request.actionType, actionTypes)
  if (!action) throw badInput(`The action type ${request.actionType} no longer exists, so an edit cannot be checked: approve the params as asked, or reject.`, 'params')
  const problem = checkParams(action, params)
  if (problem) throw new ApiError('BAD_USER_INPUT', `params${problem.pointer} ${problem.message}`, { field: 'params', pointer: problem.pointer })
  if (request.resourceType === 'RECORD_MUTATION') {
    const [asked, edited] = [request.params as Record<string, unknown>, params as Record<string, unknown>]
    for (const key of RECORD_TARGET_KEYS) {
      // a key added as null is a change too: `ownerId: null` would take the record from its owner
      if (Object.hasOwn(asked, key) !== Object.hasOwn(edited, key) || stableJson(asked[key]) !== stableJson(edited[key])) {
        throw new ApiError('BAD_USER_INPUT', `params/${key} may not be edited: only the data of a record change may.`, { field: 'params', pointer: `/${key}` })
      }
    }
    const problem = recordDataProblem(edited.data)
    if (problem) throw new ApiError('BAD_USER_INPUT', `params/data${problem.pointer} ${problem.message}`, { field: 'params', pointer: `/data${problem.pointer}` })
  }
  if (compare(approvedParamsOf(request) as object, params as object).length === 0) return null
  return { approvedParams: params, patch: compare(request.params as object, params as object) }
}

/**
 * Stores a reviewer's edit on the request (what later stages review and what runs), with an
 * EDITED event holding the JSON Patch from the requested params to it. An edit back to the
 * requested params leaves the request unedited.
 */
async function applyEdit(tx: Tx, request: ApprovalRequest, edit: CheckedEdit, actor: Viewer, now: Date): Promise<ApprovalRequest> {
  const asAsked = edit.patch.length === 0
  const edited = await tx.approvalRequest.update({
    where: { id: request.id },
    data: { approvedParams: asAsked ? Prisma.DbNull : (edit.approvedParams as Prisma.InputJsonValue), edited: !asAsked },
  })
  await tx.approvalEvent.create({
    data: { requestId: request.id, type: 'EDITED', ...actorColumns(actor), details: edit.patch as unknown as Prisma.InputJsonValue, at: now },
  })
  return edited
}

async function decideInTransaction(
  prisma: PrismaClient,
  viewer: Viewer,
  id: string,
  { status, comment, params }: DecisionInput,
  now: Date,
  maxJsonBytes: number,
  actionTypes?: ActionTypeRegistry,
  via?: DecisionChannel,
): Promise<ApprovalRequest> {
  return prisma.$transaction(async (tx) => {
    // concurrent decisions of one request wait for each other here: each vote counts once
    await lockRequest(tx, id, via?.channel)
    await via?.before?.(tx)
    let request = await getVisibleRequest(tx, viewer, id)
    if (!request) throw notFound('Approval request')
    if (request.status !== 'PENDING') throw notPending(request)
    if (isExpired(request, now)) throw conflict('This request has expired.')
    const reviewer = await tx.approvalReviewer.findFirst({
      where: { requestId: id, active: true, ...principalColumn(viewer) },
      select: { id: true },
    })
    if (!reviewer) throw forbidden('Only a current reviewer of this request may decide it.')
    const edit = params === undefined ? null : await checkEdit(tx, request, params, maxJsonBytes, actionTypes)
    if (edit) {
      request = await applyEdit(tx, request, edit, viewer, now)
      // who approved this stage approved something else: they review the edit again
      await voidStageVotes(tx, request, viewer, now)
    }
    const decided =
      status === 'APPROVED'
        ? await approveInStage(tx, request, viewer, comment, now, notExpired(now))
        : await finalize(tx, id, status, viewer, comment, now, notExpired(now))
    if (!decided) throw conflict('This request was decided or withdrawn meanwhile.')
    return decided
  })
}

/**
 * A current reviewer hands a pending request on (an AI reviewer unsure of itself, a person who
 * should not decide it): to the rule's fallback, or to the approval managers when the rule has
 * no fallback or the request already went to it. CONFLICT when nobody else could decide it.
 */
export async function escalate(prisma: PrismaClient, viewer: Viewer, id: string, reason: string, now: Date): Promise<ApprovalRequest> {
  return prisma.$transaction(async (tx) => {
    const request = await getVisibleRequest(tx, viewer, id)
    if (!request) throw notFound('Approval request')
    if (request.status !== 'PENDING') throw notPending(request)
    if (isExpired(request, now)) throw conflict('This request has expired.')
    if (!(await tx.approvalReviewer.findFirst({ where: { requestId: id, active: true, ...principalColumn(viewer) }, select: { id: true } }))) {
      throw forbidden('Only a current reviewer of this request may hand it on.')
    }
    const stage = stageOf(requestRule(request), request.stage)
    const subject = await subjectOf(tx, request)
    const assignment = await assign(tx, stage, subject, request.escalated || !stage.fallbackResolver ? 'lastResort' : 'fallback')
    const { resolution } = assignment
    const others = resolution.kind === 'reviewers' ? admittedWithout(resolution.reviewers, viewer.id) : null
    if (others && others.length === 0) throw conflict('Nobody else can decide this request: decide it, or let it expire.')
    const { count } = await tx.approvalRequest.updateMany({ where: { id, status: 'PENDING' }, data: { escalated: true, escalateAt: null, ...assignmentColumns(assignment, now) } })
    if (count === 0) throw conflict('This request was decided or withdrawn meanwhile.')
    await tx.approvalReviewer.updateMany({ where: { requestId: id, active: true }, data: { active: false } })
    if (others) await addReviewers(tx, id, others, now)
    await tx.approvalEvent.create({
      data: { requestId: id, type: 'ESCALATED', ...actorColumns(viewer), comment: [reason, ...assignment.escalations].join('; '), at: now },
    })
    if (resolution.kind === 'reviewers' && resolution.delegations.length > 0) {
      const delegations = resolution.delegations.filter((d) => d.delegateId !== viewer.id)
      await tx.approvalEvent.createMany({ data: delegationEvents(delegations).map((e) => ({ ...e, requestId: id, at: now })) })
    }
    if (resolution.kind === 'auto' && resolution.delaySeconds === 0) {
      return (await passStage(tx, await tx.approvalRequest.findUniqueOrThrow({ where: { id } }), null, 'Approved automatically by the fallback.', now))!
    }
    return tx.approvalRequest.findUniqueOrThrow({ where: { id } })
  })
}

/** Withdraws a pending request: its requester, or a holder of approval:manage. */
export async function cancel(prisma: PrismaClient, viewer: Viewer, id: string, reason: string | null, now: Date): Promise<ApprovalRequest> {
  return prisma.$transaction(async (tx) => {
    const request = await getVisibleRequest(tx, viewer, id)
    if (!request) throw notFound('Approval request')
    const isRequester = request.requesterKey === viewer.id
    if (!isRequester && !viewer.permissions.has('approval:manage')) {
      throw forbidden('Only the requester or an approval manager may cancel a request.')
    }
    if (request.status !== 'PENDING') throw notPending(request)
    const cancelled = await finalize(tx, id, 'CANCELLED', viewer, reason, now)
    if (!cancelled) throw conflict('This request was decided meanwhile.')
    return cancelled
  })
}

/** The rule a request matched, as it was then. */
export function requestRule(request: Pick<ApprovalRequest, 'ruleSnapshot'>): RuleView {
  return ruleFromSnapshot(request.ruleSnapshot)
}

export { addReviewers, assignmentColumns }
