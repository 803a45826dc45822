// Who may decide a request: resolving a rule's primary resolver, its fallback, and the
// reviewers of last resort (the holders of approval:manage).
import type { Prisma } from '../db.js'
import type { ResolverType } from '../generated/prisma/client.js'
import type { ResolverSpec, RuleView } from './rules.js'

type Tx = Prisma.TransactionClient

export type Assignee = { userId: string; agentId?: undefined } | { agentId: string; userId?: undefined }

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
}

export type Resolution =
  | { kind: 'reviewers'; resolverType: ResolverType; reviewers: Assignee[] }
  | { kind: 'auto'; resolverType: 'AUTO_APPROVE'; delaySeconds: number }
  | { kind: 'unavailable'; resolverType: ResolverType; reason: string }

/** Users who can decide at all: available, and holding approval:resolve through a role. */
const CAN_RESOLVE = { available: true, roles: { some: { permissions: { has: 'approval:resolve' } } } } satisfies Prisma.UserWhereInput

async function usersWhere(tx: Tx, where: Prisma.UserWhereInput): Promise<string[]> {
  const rows = await tx.user.findMany({ where: { AND: [where, CAN_RESOLVE] }, select: { id: true }, orderBy: { id: 'asc' } })
  return rows.map((r) => r.id)
}

/** Resolves one resolver spec to the principals who can act on it now, leaving out those who may not decide. */
/** Whether a user may review the subject: anyone but the people it is for, unless the rule allows self-approval. */
const mayReview = (subject: ReviewSubject) => (userId: string) =>
  subject.allowSelfApproval || (userId !== subject.onBehalfOfId && userId !== subject.requesterOwnerId)

export async function resolveSpec(tx: Tx, spec: ResolverSpec, subject: ReviewSubject): Promise<Resolution> {
  const unavailable = (reason: string): Resolution => ({ kind: 'unavailable', resolverType: spec.type, reason })
  const people = (ids: string[], none: string): Resolution => {
    const allowed = ids.filter(mayReview(subject))
    if (allowed.length === 0) return unavailable(ids.length ? `${none}, other than the person the action is for or the agent's owner` : none)
    return { kind: 'reviewers', resolverType: spec.type, reviewers: allowed.map((userId) => ({ userId })) }
  }
  switch (spec.type) {
    case 'NAMED_USER':
      return people(await usersWhere(tx, { id: spec.userId! }), 'the named user is unavailable or gone')
    case 'MANAGER': {
      if (!subject.onBehalfOfId) return unavailable('nobody the action is for, so no manager')
      const person = await tx.user.findUnique({ where: { id: subject.onBehalfOfId }, select: { managerId: true } })
      if (!person?.managerId) return unavailable('the person the action is for has no manager')
      return people(await usersWhere(tx, { id: person.managerId }), 'the manager is unavailable')
    }
    case 'ROLE':
      return people(await usersWhere(tx, { roles: { some: { key: spec.roleKey! } } }), `nobody available holds the role ${spec.roleKey}`)
    case 'RECORD_OWNER': {
      if (!subject.recordRefId) return unavailable('the request names no record of the records store')
      const record = await tx.record.findUnique({ where: { id: subject.recordRefId }, select: { ownerId: true } })
      if (!record?.ownerId) return unavailable('the record has no owner')
      return people(await usersWhere(tx, { id: record.ownerId }), "the record's owner is unavailable")
    }
    case 'AGENT': {
      if (spec.agentId === subject.requesterAgentId) return unavailable('the reviewer agent is the requester itself')
      const agent = await tx.agent.findUnique({ where: { id: spec.agentId! }, select: { enabled: true } })
      if (!agent?.enabled) return unavailable('the reviewer agent is disabled or gone')
      return { kind: 'reviewers', resolverType: 'AGENT', reviewers: [{ agentId: spec.agentId! }] }
    }
    case 'AUTO_APPROVE':
      return { kind: 'auto', resolverType: 'AUTO_APPROVE', delaySeconds: spec.delaySeconds ?? 0 }
  }
}

/**
 * The holders of approval:manage, so that no request is left with nobody able to decide it:
 * the available ones, or all of them when none is available; never the person the action is
 * for unless the rule allows self-approval.
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

/**
 * Assigns a request, starting at `start`: the rule's primary resolver, then its fallback, then
 * the reviewers of last resort.
 */
export async function assign(tx: Tx, rule: RuleView, given: ReviewSubject, start: 'primary' | 'fallback' | 'lastResort'): Promise<Assignment> {
  const subject = { ...given }
  if (subject.requesterOwnerId === undefined) {
    subject.requesterOwnerId = subject.requesterAgentId
      ? ((await tx.agent.findUnique({ where: { id: subject.requesterAgentId }, select: { ownerId: true } }))?.ownerId ?? null)
      : null
  }
  const escalations: string[] = []
  const chain = start === 'primary' ? [rule.primaryResolver, rule.fallbackResolver] : start === 'fallback' ? [rule.fallbackResolver] : []
  for (const spec of chain) {
    if (!spec) continue
    const resolution = await resolveSpec(tx, spec, subject)
    if (resolution.kind !== 'unavailable') return { resolution, escalations }
    escalations.push(`${spec.type}: ${resolution.reason}`)
  }
  const resolverType = (rule.fallbackResolver ?? rule.primaryResolver).type
  escalations.push('falling back to the holders of approval:manage')
  return { resolution: { kind: 'reviewers', resolverType, reviewers: await lastResortReviewers(tx, subject) }, escalations }
}
