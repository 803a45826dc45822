// Who may decide a request: resolving a stage's primary resolver, its fallback, and the
// reviewers of last resort (the holders of approval:manage); away users' delegates in their place.
import type { Prisma } from '../db.js'
import type { ResolverType } from '../generated/prisma/client.js'
import type { ResolverSpec, StageSpec } from './rules.js'

type Tx = Prisma.TransactionClient

export type Assignee = { userId: string; agentId?: undefined } | { agentId: string; userId?: undefined }

/** An away user and the delegate who reviews in their place. */
export interface Delegation {
  absentId: string
  delegateId: string
}

/** Facts about a request that decide who may review it. */
export interface ReviewSubject {
  requesterAgentId: string | null
  /**
   * The requesting agent's owner: never a reviewer of its agent's requests unless the rule allows
   * self-approval (else an owner could approve what it had its agent ask). Looked up when not given.
   */
  requesterOwnerId?: string | null
  /** The person the action is for: excluded from reviewing unless the rule allows self-approval. */
  onBehalfOfId: string | null
  recordRefId: string | null
  allowSelfApproval: boolean
  /** Who approved the request already, in any stage (user or agent ids): nobody votes twice. */
  voters?: readonly string[]
}

export type Resolution =
  | { kind: 'reviewers'; resolverType: ResolverType; reviewers: Assignee[]; delegations: Delegation[] }
  | { kind: 'auto'; resolverType: 'AUTO_APPROVE'; delaySeconds: number }
  | { kind: 'unavailable'; resolverType: ResolverType; reason: string }

/** Users who may decide requests at all: holding approval:resolve through a role. */
const MAY_RESOLVE = { roles: { some: { permissions: { has: 'approval:resolve' } } } } satisfies Prisma.UserWhereInput

/** How many delegates are followed from an away user at most (A away to B, B away to C, ...). */
export const MAX_DELEGATION_DEPTH = 5

/** Whether a user may review the subject: anyone but the people it is for (unless the rule allows self-approval), and nobody who approved it already. */
const mayReview = (subject: ReviewSubject) => (id: string) =>
  !subject.voters?.includes(id) && (subject.allowSelfApproval || (id !== subject.onBehalfOfId && id !== subject.requesterOwnerId))

/**
 * The delegate who reviews in an away user's place: their delegate if available and able to
 * decide, else that delegate's delegate, and so on, at most MAX_DELEGATION_DEPTH steps and never
 * round a cycle. Null when the chain ends with nobody (or with someone who may not review this).
 */
export async function delegateOf(tx: Tx, absent: { id: string; delegateId: string | null }, subject: ReviewSubject): Promise<string | null> {
  const seen = new Set([absent.id])
  let next = absent.delegateId
  for (let depth = 0; next && depth < MAX_DELEGATION_DEPTH && !seen.has(next); depth++) {
    seen.add(next)
    const user = await tx.user.findFirst({ where: { id: next, ...MAY_RESOLVE }, select: { id: true, available: true, delegateId: true } })
    if (!user) return null
    if (user.available) return mayReview(subject)(user.id) ? user.id : null
    next = user.delegateId
  }
  return null
}

/** The users `where` names who can review now: the available ones, and for the away ones their delegates. */
async function usersWhere(tx: Tx, where: Prisma.UserWhereInput, subject: ReviewSubject): Promise<{ ids: string[]; delegations: Delegation[] }> {
  const rows = await tx.user.findMany({
    where: { AND: [where, MAY_RESOLVE] },
    select: { id: true, available: true, delegateId: true },
    orderBy: { id: 'asc' },
  })
  const ids = rows.filter((r) => r.available).map((r) => r.id)
  const delegations: Delegation[] = []
  for (const absent of rows.filter((r) => !r.available && r.delegateId && mayReview(subject)(r.id))) {
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
  const people = ({ ids, delegations }: { ids: string[]; delegations: Delegation[] }, none: string): Resolution => {
    const allowed = ids.filter(mayReview(subject))
    if (allowed.length === 0) return unavailable(ids.length ? `${none}, other than the person the action is for, the agent's owner or who approved it already` : none)
    return { kind: 'reviewers', resolverType: spec.type, reviewers: allowed.map((userId) => ({ userId })), delegations }
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
      if (spec.agentId === subject.requesterAgentId) return unavailable('the reviewer agent is the requester itself')
      if (subject.voters?.includes(spec.agentId!)) return unavailable('the reviewer agent approved this request already')
      const agent = await tx.agent.findUnique({ where: { id: spec.agentId! }, select: { enabled: true } })
      if (!agent?.enabled) return unavailable('the reviewer agent is disabled or gone')
      return { kind: 'reviewers', resolverType: 'AGENT', reviewers: [{ agentId: spec.agentId! }], delegations: [] }
    }
    case 'AUTO_APPROVE':
      return { kind: 'auto', resolverType: 'AUTO_APPROVE', delaySeconds: spec.delaySeconds ?? 0 }
  }
}

/**
 * The holders of approval:manage, so that no request is left with nobody able to decide it:
 * the available ones, or all of them when none is available; never the person the action is
 * for unless the rule allows self-approval, nor who approved it already.
 */
export async function lastResortReviewers(tx: Tx, subject: ReviewSubject): Promise<Assignee[]> {
  const managers = { roles: { some: { permissions: { has: 'approval:manage' } } } } satisfies Prisma.UserWhereInput
  const allowed = (ids: { id: string }[]) => ids.map((u) => u.id).filter(mayReview(subject)).map((userId) => ({ userId }))
  const available = allowed(await tx.user.findMany({ where: { ...managers, available: true }, select: { id: true }, orderBy: { id: 'asc' } }))
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

const principalOf = (a: Assignee) => (a.userId ?? a.agentId)!

/**
 * Assigns a stage of a request, starting at `start`: its primary resolver, then its fallback,
 * then the reviewers of last resort. A stage that needs more approvals than its first choice has
 * reviewers gets its fallback's reviewers too, and then the approval managers, until there are
 * enough (or nobody more).
 */
export async function assign(tx: Tx, stage: StageResolvers, given: ReviewSubject, start: 'primary' | 'fallback' | 'lastResort'): Promise<Assignment> {
  const subject = { ...given }
  if (subject.requesterOwnerId === undefined) {
    subject.requesterOwnerId = subject.requesterAgentId
      ? ((await tx.agent.findUnique({ where: { id: subject.requesterAgentId }, select: { ownerId: true } }))?.ownerId ?? null)
      : null
  }
  const needed = stage.requiredApprovals ?? 1
  const escalations: string[] = []
  const reviewers: Assignee[] = []
  const delegations: Delegation[] = []
  let resolverType: ResolverType | undefined
  const add = (more: Assignee[]) => {
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
    if (reviewers.length >= needed) return { resolution: { kind: 'reviewers', resolverType, reviewers, delegations }, escalations }
    escalations.push(`${spec.type}: ${reviewers.length} possible reviewer(s) for ${needed} approvals`)
  }
  escalations.push('falling back to the holders of approval:manage')
  add(await lastResortReviewers(tx, subject))
  if (reviewers.length < needed) escalations.push(`only ${reviewers.length} can approve, and this stage needs ${needed}`)
  resolverType ??= (stage.fallbackResolver ?? stage.primaryResolver).type
  return { resolution: { kind: 'reviewers', resolverType, reviewers, delegations }, escalations }
}
