// Who may decide a request: resolving a stage's primary resolver, its fallback, and the
// reviewers of last resort (the holders of approval:manage); away users' delegates in their place.
// Every reviewer a request is given, by whatever path (a new request, a next stage, an escalation,
// a hand-over to a delegate, approvals voided by an edit), passes admitReviewers first: the one
// place that keeps the requester's people from reviewing it. The writes take only its output.
import type { Prisma } from '../db.js'
import type { ResolverType } from '../generated/prisma/client.js'
import type { ResolverSpec, StageSpec } from './rules.js'

type Tx = Prisma.TransactionClient

export type Assignee = { userId: string; agentId?: undefined } | { agentId: string; userId?: undefined }

/** A reviewer's user or agent id. */
export const principalOf = (a: Assignee) => (a.userId ?? a.agentId)!

declare const admittedBrand: unique symbol
/**
 * Reviewers that passed admitReviewers for a request. Only this module makes them, and the
 * writes that give a request reviewers (addReviewers, insertRequest, reinstateReviewers) take
 * nothing else: a path that skipped the exclusions would not compile.
 */
export type Admitted = readonly Assignee[] & { readonly [admittedBrand]: true }

const admitted = (list: readonly Assignee[]) => list as Admitted

/** Nobody: trivially admitted. */
export const NO_REVIEWERS: Admitted = admitted([])

/** An away user and the delegate who reviews in their place. */
export interface Delegation {
  absentId: string
  delegateId: string
}

/**
 * Facts about a request that decide who may review it. Made by subjectOf (a stored request) or
 * from the requester (a new one); every field is required, so that none is forgotten.
 */
export interface ReviewSubject {
  /** A user who asked for themselves (then also onBehalfOfId). */
  requesterUserId: string | null
  /** An agent that asked: never its own reviewer. */
  requesterAgentId: string | null
  /**
   * The requesting agent's owner: never a reviewer of its agent's requests unless the rule allows
   * self-approval (else an owner could approve what it had its agent ask).
   */
  requesterOwnerId: string | null
  /** The person the action is for: excluded from reviewing unless the rule allows self-approval. */
  onBehalfOfId: string | null
  recordRefId: string | null
  allowSelfApproval: boolean
  /** Who approved the request already, in any stage (user or agent ids): nobody votes twice. */
  voters: readonly string[]
}

export type Resolution =
  | { kind: 'reviewers'; resolverType: ResolverType; reviewers: Admitted; delegations: Delegation[] }
  | { kind: 'auto'; resolverType: 'AUTO_APPROVE'; delaySeconds: number }
  | { kind: 'unavailable'; resolverType: ResolverType; reason: string }

/** Users who may decide requests at all: holding approval:resolve through a role. */
const MAY_RESOLVE = { roles: { some: { permissions: { has: 'approval:resolve' } } } } satisfies Prisma.UserWhereInput

/** The people a request is by or for: the requesting user, the person it is for, the requesting agent's owner. */
const requesterPeople = (subject: ReviewSubject) =>
  [subject.requesterUserId, subject.onBehalfOfId, subject.requesterOwnerId].filter((id): id is string => id !== null)

/** Whether a user may review the subject: anyone but the requester's people (unless the rule allows self-approval), and nobody who approved it already. */
const userMayReview = (subject: ReviewSubject) => (id: string) =>
  !subject.voters.includes(id) && (subject.allowSelfApproval || !requesterPeople(subject).includes(id))

/** A candidate admitReviewers left out, and why. */
export interface Refusal {
  principal: string
  reason: string
}

/**
 * The exclusions, in one place: of `candidates`, those who may review the subject. Nobody who
 * approved it already (in any stage); never the requesting agent itself; and, unless the rule
 * allows self-approval, neither the requesting user, nor the person the action is for, nor the
 * requesting agent's owner, nor an agent any of them owns (a reviewer agent of the same owner
 * would approve for them). A disabled or deleted agent reviews nothing. Keeps the candidates'
 * order, each principal once.
 */
export async function admitReviewers(tx: Tx, subject: ReviewSubject, candidates: readonly Assignee[]): Promise<{ admitted: Admitted; refused: Refusal[] }> {
  const agentIds = [...new Set(candidates.flatMap((c) => (c.agentId ? [c.agentId] : [])))]
  const agents = agentIds.length ? await tx.agent.findMany({ where: { id: { in: agentIds } }, select: { id: true, enabled: true, ownerId: true } }) : []
  const people = requesterPeople(subject)
  const refusalOf = (c: Assignee): string | null => {
    if (c.userId !== undefined) {
      if (subject.voters.includes(c.userId)) return 'approved this request already'
      return userMayReview(subject)(c.userId) ? null : 'is the person the action is for, the requester or the agent\'s owner'
    }
    if (c.agentId === subject.requesterAgentId) return 'the reviewer agent is the requester itself'
    if (subject.voters.includes(c.agentId)) return 'the reviewer agent approved this request already'
    const agent = agents.find((a) => a.id === c.agentId)
    if (!agent?.enabled) return 'the reviewer agent is disabled or gone'
    if (!subject.allowSelfApproval && agent.ownerId && people.includes(agent.ownerId)) {
      return "the reviewer agent belongs to the requesting agent's owner or to the person the action is for"
    }
    return null
  }
  const kept: Assignee[] = []
  const refused: Refusal[] = []
  const seen = new Set<string>()
  for (const c of candidates) {
    const principal = principalOf(c)
    if (seen.has(principal)) continue
    seen.add(principal)
    const reason = refusalOf(c)
    if (reason) refused.push({ principal, reason })
    else kept.push(c)
  }
  return { admitted: admitted(kept), refused }
}

/** Admitted reviewers less one principal (the reviewer handing a request on): still admitted. */
export const admittedWithout = (list: Admitted, principal: string): Admitted => admitted(list.filter((a) => principalOf(a) !== principal))

/**
 * The delegate who reviews in an away user's place: their delegate if available and able to
 * decide, else that delegate's delegate, and so on to the chain's end (never round a cycle, so at
 * most as many steps as there are users). Null when the chain ends with nobody, breaks at someone
 * who cannot decide requests, or ends with someone admitReviewers refuses for this subject.
 */
export async function delegateOf(tx: Tx, absent: { id: string; delegateId: string | null }, subject: ReviewSubject): Promise<string | null> {
  if (!absent.delegateId) return null
  // the chain, in order, as far as its first available user (one statement, however long)
  const chain = await tx.$queryRaw<{ id: string; available: boolean }[]>`
    WITH RECURSIVE chain(id, available, "delegateId", depth, path) AS (
      SELECT u.id, u.available, u."delegateId", 1, ARRAY[${absent.id}::uuid, u.id]
      FROM "User" u WHERE u.id = ${absent.delegateId}::uuid AND u.id <> ${absent.id}::uuid
      UNION ALL
      SELECT u.id, u.available, u."delegateId", c.depth + 1, c.path || u.id
      FROM chain c JOIN "User" u ON u.id = c."delegateId"
      WHERE NOT c.available AND NOT u.id = ANY(c.path)
    )
    SELECT id::text AS id, available FROM chain ORDER BY depth`
  if (chain.length === 0) return null
  const deciders = new Set(
    (await tx.user.findMany({ where: { id: { in: chain.map((u) => u.id) }, ...MAY_RESOLVE }, select: { id: true } })).map((u) => u.id),
  )
  for (const user of chain) {
    if (!deciders.has(user.id)) return null
    if (!user.available) continue
    const { admitted: ok } = await admitReviewers(tx, subject, [{ userId: user.id }])
    return ok.length ? user.id : null
  }
  return null
}

/** The users `where` names who can review now: the available ones, and for the away ones their delegates (admitted). */
async function usersWhere(tx: Tx, where: Prisma.UserWhereInput, subject: ReviewSubject): Promise<{ ids: string[]; delegations: Delegation[] }> {
  const rows = await tx.user.findMany({
    where: { AND: [where, MAY_RESOLVE] },
    select: { id: true, available: true, delegateId: true },
    orderBy: { id: 'asc' },
  })
  const ids = rows.filter((r) => r.available).map((r) => r.id)
  const delegations: Delegation[] = []
  // one of the requester's people away names no delegate for it: they would not have reviewed it
  for (const absent of rows.filter((r) => !r.available && r.delegateId && userMayReview(subject)(r.id))) {
    const delegateId = await delegateOf(tx, absent, subject)
    if (delegateId && !ids.includes(delegateId)) {
      ids.push(delegateId)
      delegations.push({ absentId: absent.id, delegateId })
    }
  }
  return { ids, delegations }
}

/** Resolves one resolver spec to the principals who can act on it now, leaving out those who may not decide. */
export async function resolveSpec(tx: Tx, spec: ResolverSpec, subject: ReviewSubject): Promise<Resolution> {
  const unavailable = (reason: string): Resolution => ({ kind: 'unavailable', resolverType: spec.type, reason })
  const people = async ({ ids, delegations }: { ids: string[]; delegations: Delegation[] }, none: string): Promise<Resolution> => {
    const { admitted: allowed } = await admitReviewers(tx, subject, ids.map((userId) => ({ userId })))
    if (allowed.length === 0) return unavailable(ids.length ? `${none}, other than the person the action is for, the agent's owner or who approved it already` : none)
    const kept = delegations.filter((d) => allowed.some((a) => a.userId === d.delegateId))
    return { kind: 'reviewers', resolverType: spec.type, reviewers: allowed, delegations: kept }
  }
  switch (spec.type) {
    case 'NAMED_USER':
      return people(await usersWhere(tx, { id: spec.userId! }, subject), 'the named user is unavailable or gone')
    case 'MANAGER': {
      if (!subject.onBehalfOfId) return unavailable('nobody the action is for, so no manager')
      const person = await tx.user.findUnique({ where: { id: subject.onBehalfOfId }, select: { managerId: true } })
      if (!person?.managerId) return unavailable('the person the action is for has no manager')
      return people(await usersWhere(tx, { id: person.managerId }, subject), 'the manager is unavailable')
    }
    case 'ROLE':
      return people(await usersWhere(tx, { roles: { some: { key: spec.roleKey! } } }, subject), `nobody available holds the role ${spec.roleKey}`)
    case 'RECORD_OWNER': {
      if (!subject.recordRefId) return unavailable('the request names no record of the records store')
      const record = await tx.record.findUnique({ where: { id: subject.recordRefId }, select: { ownerId: true } })
      if (!record?.ownerId) return unavailable('the record has no owner')
      return people(await usersWhere(tx, { id: record.ownerId }, subject), "the record's owner is unavailable")
    }
    case 'AGENT': {
      const { admitted: allowed, refused } = await admitReviewers(tx, subject, [{ agentId: spec.agentId! }])
      if (allowed.length === 0) return unavailable(refused[0]!.reason)
      return { kind: 'reviewers', resolverType: 'AGENT', reviewers: allowed, delegations: [] }
    }
    case 'AUTO_APPROVE':
      return { kind: 'auto', resolverType: 'AUTO_APPROVE', delaySeconds: spec.delaySeconds ?? 0 }
  }
}

/**
 * The holders of approval:manage, so that no request is left with nobody able to decide it:
 * the available ones, or all of them when none is available; admitted as anyone is (never the
 * requester's people unless the rule allows self-approval, nor who approved it already).
 */
export async function lastResortReviewers(tx: Tx, subject: ReviewSubject): Promise<Admitted> {
  const managers = { roles: { some: { permissions: { has: 'approval:manage' } } } } satisfies Prisma.UserWhereInput
  const allowed = async (ids: { id: string }[]) => (await admitReviewers(tx, subject, ids.map((u) => ({ userId: u.id })))).admitted
  const available = await allowed(await tx.user.findMany({ where: { ...managers, available: true }, select: { id: true }, orderBy: { id: 'asc' } }))
  if (available.length) return available
  return allowed(await tx.user.findMany({ where: managers, select: { id: true }, orderBy: { id: 'asc' } }))
}

/** The outcome of assigning a request: who decides, and whether it fell through to a fallback. */
export interface Assignment {
  resolution: Exclude<Resolution, { kind: 'unavailable' }>
  /** Why the primary (and fallback) could not act; empty when the first choice took it. */
  escalations: string[]
}

/** What assigning needs of a stage: its resolvers, and how many approvals it needs. */
export type StageResolvers = Pick<StageSpec, 'primaryResolver' | 'fallbackResolver'> & { requiredApprovals?: number }

/**
 * Assigns a stage of a request, starting at `start`: its primary resolver, then its fallback,
 * then the reviewers of last resort. A stage that needs more approvals than its first choice has
 * reviewers gets its fallback's reviewers too, and then the approval managers, until there are
 * enough (or nobody more).
 */
export async function assign(tx: Tx, stage: StageResolvers, subject: ReviewSubject, start: 'primary' | 'fallback' | 'lastResort'): Promise<Assignment> {
  const needed = stage.requiredApprovals ?? 1
  const escalations: string[] = []
  const reviewers: Assignee[] = []
  const delegations: Delegation[] = []
  let resolverType: ResolverType | undefined
  // each list added was admitted: so is their union
  const add = (more: Admitted) => {
    for (const r of more) if (!reviewers.some((x) => principalOf(x) === principalOf(r))) reviewers.push(r)
  }
  const chain = start === 'primary' ? [stage.primaryResolver, stage.fallbackResolver] : start === 'fallback' ? [stage.fallbackResolver] : []
  for (const spec of chain) {
    if (!spec) continue
    const resolution = await resolveSpec(tx, spec, subject)
    if (resolution.kind === 'auto') {
      if (reviewers.length === 0) return { resolution, escalations }
      continue // reviewers are already there: they decide
    }
    if (resolution.kind === 'unavailable') {
      escalations.push(`${spec.type}: ${resolution.reason}`)
      continue
    }
    resolverType ??= resolution.resolverType
    add(resolution.reviewers)
    delegations.push(...resolution.delegations.filter((d) => !delegations.some((x) => x.delegateId === d.delegateId)))
    if (reviewers.length >= needed) return { resolution: { kind: 'reviewers', resolverType, reviewers: admitted(reviewers), delegations }, escalations }
    escalations.push(`${spec.type}: ${reviewers.length} possible reviewer(s) for ${needed} approvals`)
  }
  escalations.push('falling back to the holders of approval:manage')
  add(await lastResortReviewers(tx, subject))
  if (reviewers.length < needed) escalations.push(`only ${reviewers.length} can approve, and this stage needs ${needed}`)
  resolverType ??= (stage.fallbackResolver ?? stage.primaryResolver).type
  return { resolution: { kind: 'reviewers', resolverType, reviewers: admitted(reviewers), delegations }, escalations }
}
