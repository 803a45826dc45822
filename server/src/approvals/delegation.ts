// Time away and delegation: a user who goes away names a delegate (or keeps the one they named),
// their pending requests move to the delegate at once, new requests go to the delegate while they
// are away (reviewers.ts), and at awayUntil the scheduler makes them available again.
import { Prisma, type PrismaClient } from '../db.js'
import { badInput } from '../errors.js'
import { addReviewers } from './requests.js'
import { admitReviewers, delegateOf } from './reviewers.js'
import { delegationEvents, lockRequest, subjectOf } from './stages.js'

type Tx = Prisma.TransactionClient

/** Serialises changes of delegates, so that two concurrent ones cannot close a cycle. */
const DELEGATE_GRAPH_LOCK = 7_260_013_373

/** The longest time away one change may set: a year. */
const MAX_AWAY_MS = 365 * 24 * 3600 * 1000

export interface AvailabilityChange {
  available?: boolean | null
  /** When an away user becomes available again by itself; null: until they say so. */
  awayUntil?: Date | null
  /** Who reviews in the user's place while away (a user's database id); null removes them, undefined keeps them. */
  delegateId?: string | null
}

/**
 * Applies a change of availability to a user, in the caller's transaction: checks it (BAD_USER_INPUT
 * for a return date in the past or with `available: true`, a delegate who is the user, is gone,
 * cannot decide requests, or would close a cycle), stores it, and when the user is away moves
 * their pending requests to their delegate. Returns the ids of the requests that moved.
 */
export async function changeAvailability(tx: Tx, userId: string, change: AvailabilityChange, now: Date, field = ''): Promise<string[]> {
  const awayUntil = change.awayUntil ?? null
  if (awayUntil && change.available === true) throw badInput('A user who is available has no return date: leave awayUntil out.', `${field}awayUntil`)
  if (awayUntil && awayUntil.getTime() <= now.getTime()) throw badInput('The return date must be in the future.', `${field}awayUntil`)
  if (awayUntil && awayUntil.getTime() - now.getTime() > MAX_AWAY_MS) throw badInput('The return date must be within a year.', `${field}awayUntil`)
  // a return date says the user is away
  const available = change.available ?? (change.awayUntil !== undefined && awayUntil ? false : undefined)
  const data: Prisma.UserUncheckedUpdateInput = {}
  if (available !== undefined) {
    data.available = available
    data.awayUntil = available ? null : awayUntil
  } else if (change.awayUntil !== undefined) data.awayUntil = awayUntil
  if (change.delegateId !== undefined) {
    if (change.delegateId !== null) await checkDelegate(tx, userId, change.delegateId, `${field}delegateId`)
    data.delegateId = change.delegateId
  }
  const user = await tx.user.update({ where: { id: userId }, data, select: { id: true, available: true, delegateId: true } })
  return user.available || !user.delegateId ? [] : handOver(tx, user, now)
}

async function checkDelegate(tx: Tx, userId: string, delegateId: string, field: string) {
  if (delegateId === userId) throw badInput('A user cannot be their own delegate.', field)
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DELEGATE_GRAPH_LOCK}::bigint)`
  const delegate = await tx.user.findUnique({
    where: { id: delegateId },
    select: { id: true, roles: { where: { permissions: { has: 'approval:resolve' } }, select: { id: true } } },
  })
  if (!delegate) throw badInput('No user with the id given as delegate.', field)
  if (delegate.roles.length === 0) throw badInput('The delegate cannot decide requests (no role with approval:resolve).', field)
  // the chain from the delegate, followed to its end however long, must not lead back to the user
  const [chain] = await tx.$queryRaw<{ cycle: boolean }[]>`
    WITH RECURSIVE chain(id, "delegateId") AS (
      SELECT id, "delegateId" FROM "User" WHERE id = ${delegateId}::uuid
      UNION
      SELECT u.id, u."delegateId" FROM "User" u JOIN chain c ON u.id = c."delegateId"
    )
    SELECT EXISTS (SELECT 1 FROM chain WHERE "delegateId" = ${userId}::uuid) AS cycle`
  if (chain?.cycle) throw badInput('This delegate would close a cycle: they delegate to this user, directly or through others.', field)
}

/**
 * Moves an away user's pending requests to the delegate who reviews in their place (following
 * the chain), admitted as any reviewer is (admitReviewers: never the requester's people unless
 * the rule allows self-approval, nobody who approved it already). A request for which no
 * delegate may act stays with the user, as it would without a delegate.
 */
async function handOver(tx: Tx, user: { id: string; delegateId: string | null }, now: Date): Promise<string[]> {
  const pending = await tx.approvalReviewer.findMany({
    where: { userId: user.id, active: true, request: { status: 'PENDING' } },
    select: { requestId: true },
    orderBy: { requestId: 'asc' },
  })
  const moved: string[] = []
  for (const { requestId } of pending) {
    await lockRequest(tx, requestId)
    const request = await tx.approvalRequest.findUniqueOrThrow({ where: { id: requestId } })
    if (request.status !== 'PENDING') continue
    const subject = await subjectOf(tx, request)
    const delegateId = await delegateOf(tx, user, subject)
    if (!delegateId) continue
    const { admitted } = await admitReviewers(tx, subject, [{ userId: delegateId }])
    if (admitted.length === 0) continue
    await tx.approvalReviewer.updateMany({ where: { requestId, userId: user.id, active: true }, data: { active: false } })
    const already = await tx.approvalReviewer.findFirst({ where: { requestId, userId: delegateId, active: true }, select: { id: true } })
    if (!already) await addReviewers(tx, requestId, admitted, now)
    await tx.approvalEvent.createMany({
      data: delegationEvents([{ absentId: user.id, delegateId }]).map((e) => ({ ...e, requestId, at: now })),
    })
    await tx.approvalRequest.update({ where: { id: requestId }, data: { updatedAt: now } })
    moved.push(requestId)
  }
  return moved
}

/** Makes available again the away users whose return date has passed (at most `batch`). Returns their ids. */
export async function returnFromAway(prisma: PrismaClient, now: Date, batch = 200): Promise<string[]> {
  const due = await prisma.user.findMany({ where: { available: false, awayUntil: { lte: now } }, select: { id: true }, take: batch })
  if (due.length === 0) return []
  const ids = due.map((u) => u.id)
  // conditional: a user who changed their return date meanwhile stays away
  const returned = await prisma.user.updateManyAndReturn({
    where: { id: { in: ids }, available: false, awayUntil: { lte: now } },
    data: { available: true, awayUntil: null },
    select: { id: true },
  })
  return returned.map((u) => u.id)
}
