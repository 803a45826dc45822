// Running approved actions exactly once, surviving restarts: the durable re-queue.
//
// Approving an AGENT_ACTION request creates its execution, READY, in the approving transaction.
// The requester leases it (a claim: a conditional update, or FOR UPDATE SKIP LOCKED for a batch,
// so of any number of concurrent claims exactly one wins), runs it, and reports. Each claim makes
// a fresh lease token, stored hashed: a fencing token, so that a worker whose lease ran out (and
// whose action another worker has taken since) can change nothing. A lease that runs out, or a
// retryable failure, makes the action READY again; after the last attempt it is FAILED.
import { createHash, randomBytes } from 'node:crypto'
import canonicalizeModule from 'canonicalize'
import type { Viewer } from '../auth/viewer.js'
import { Prisma, type PrismaClient } from '../db.js'
import { conflict, forbidden, notFound } from '../errors.js'
import type { ApprovalRequest, Execution } from '../generated/prisma/client.js'
import { checkJsonSize, visibleTo } from './requests.js'

type Tx = Prisma.TransactionClient

// canonicalize is CommonJS; under NodeNext its default import is the module object
const canonicalize = ((canonicalizeModule as unknown as { default?: (input: unknown) => string | undefined }).default ??
  canonicalizeModule) as unknown as (input: unknown) => string | undefined

export const DEFAULT_MAX_EXECUTION_ATTEMPTS = 5

export interface ExecutionSettings {
  /** Attempts before an action that keeps failing (or whose lease keeps running out) is FAILED. */
  maxAttempts: number
}

/** Lowercase hex SHA-256 of the RFC 8785 canonical JSON of `params`: what a worker checks before running. */
export function paramsDigest(params: unknown): string {
  return createHash('sha256').update(canonicalize(params) ?? 'null').digest('hex')
}

const hashLease = (token: string) => createHash('sha256').update(token).digest('hex')
const seconds = (date: Date, s: number) => new Date(date.getTime() + s * 1000)

type Approved = Pick<ApprovalRequest, 'id' | 'requesterKey' | 'actionType' | 'params'>

/** What every execution starts from: its request's requester, action and params as approved. */
const executionOf = (request: Approved, now: Date) => ({
  requestId: request.id,
  requesterKey: request.requesterKey,
  actionType: request.actionType,
  params: request.params as Prisma.InputJsonValue,
  paramsDigest: paramsDigest(request.params),
  readyAt: now,
})

/** The execution of an approved agent action, READY; written in the approving transaction. */
export async function createExecution(tx: Tx, request: Approved, now: Date) {
  await tx.execution.create({ data: executionOf(request, now) })
}

/** The execution of an approved record mutation, which the server ran in the approving transaction. */
export async function recordServerExecution(
  tx: Tx,
  request: Approved,
  outcome: { type: 'EXECUTED' | 'EXECUTION_FAILED'; comment: string },
  now: Date,
) {
  const ok = outcome.type === 'EXECUTED'
  await tx.execution.create({
    data: {
      ...executionOf(request, now),
      status: ok ? 'SUCCEEDED' : 'FAILED',
      attempts: 1,
      startedAt: now,
      finishedAt: now,
      result: ok ? { message: outcome.comment } : Prisma.DbNull,
      error: ok ? null : outcome.comment,
    },
  })
}

export interface Lease {
  leaseToken: string
  attempt: number
  leaseExpiresAt: Date
  requestId: string
}

/** What may be claimed: ready, or running on a lease that has run out, with attempts left. */
const claimable = (now: Date, settings: ExecutionSettings): Prisma.ExecutionWhereInput => ({
  attempts: { lt: settings.maxAttempts },
  OR: [{ status: 'READY' }, { status: 'RUNNING', leaseExpiresAt: { lte: now } }],
})

/**
 * Claims one action, if it may be claimed: the conditional update and its EXECUTION_STARTED
 * event in one statement (atomic on its own, one round trip), so that the hot path of a worker
 * needs no transaction of its own.
 */
async function lease(db: Tx | PrismaClient, viewer: Viewer, requestId: string, leaseSeconds: number, now: Date, settings: ExecutionSettings): Promise<Lease | null> {
  const leaseToken = `lease_${randomBytes(32).toString('base64url')}`
  const leaseExpiresAt = seconds(now, leaseSeconds)
  const { actorUserId = null, actorAgentId = null } = actor(viewer) as { actorUserId?: string; actorAgentId?: string }
  const rows = await db.$queryRaw<{ attempts: number }[]>`
    WITH claimed AS (
      UPDATE "Execution"
      SET "status" = 'RUNNING', "attempts" = "attempts" + 1, "leaseTokenHash" = ${hashLease(leaseToken)},
          "leaseExpiresAt" = ${leaseExpiresAt}, "startedAt" = ${now}, "error" = NULL, "updatedAt" = ${now}
      WHERE "requestId" = ${requestId}::uuid AND "requesterKey" = ${viewer.id}::uuid AND "attempts" < ${settings.maxAttempts}
        AND ("status" = 'READY' OR ("status" = 'RUNNING' AND "leaseExpiresAt" <= ${now}))
      RETURNING "requestId", "attempts"
    ), started AS (
      INSERT INTO "ApprovalEvent" ("requestId", "type", "actorUserId", "actorAgentId", "comment", "details", "at")
      SELECT "requestId", 'EXECUTION_STARTED'::"ApprovalEventType", ${actorUserId}::uuid, ${actorAgentId}::uuid,
             'Attempt ' || "attempts", jsonb_build_object('attempt', "attempts"), ${now}
      FROM claimed
    )
    SELECT "attempts" FROM claimed`
  if (rows.length === 0) return null
  return { leaseToken, attempt: Number(rows[0]!.attempts), leaseExpiresAt, requestId }
}

const actor = (viewer: Viewer) => (viewer.kind === 'user' ? { actorUserId: viewer.id } : { actorAgentId: viewer.id })

/** Leases one approved action of the caller's; CONFLICT when it is not ready to run. */
export async function claimExecution(
  prisma: PrismaClient,
  viewer: Viewer,
  requestId: string,
  leaseSeconds: number,
  now: Date,
  settings: ExecutionSettings,
): Promise<Lease> {
  // the happy path is the claim alone: only the caller's own approved actions have an execution
  const claimed = await lease(prisma, viewer, requestId, leaseSeconds, now, settings)
  if (claimed) return claimed
  // why not: the first of these that holds
  const request = await prisma.approvalRequest.findFirst({
    where: { AND: [{ id: requestId }, visibleTo(viewer)] },
    select: { status: true, requesterKey: true, execution: { select: { status: true, attempts: true } } },
  })
  if (!request) throw notFound('Approval request')
  if (request.requesterKey !== viewer.id) throw forbidden('Only the requester may run an approved action.')
  if (request.status !== 'APPROVED') throw conflict(`This request is ${request.status}, not APPROVED: there is nothing to run.`)
  const execution = request.execution
  throw conflict(
    !execution
      ? 'This approved request has no action to run.'
      : execution.status === 'RUNNING'
        ? 'Another worker holds this action (its lease has not run out).'
        : execution.status === 'READY'
          ? `This action has used all its ${settings.maxAttempts} attempts.`
          : `This action is ${execution.status}: it is not ready to run.`,
  )
}

/** Leases up to `limit` of the caller's approved actions that are ready to run, oldest first. */
export async function claimApprovedActions(
  prisma: PrismaClient,
  viewer: Viewer,
  options: { limit: number; leaseSeconds: number; actionTypes: string[] | null },
  now: Date,
  settings: ExecutionSettings,
): Promise<Lease[]> {
  return prisma.$transaction(async (tx) => {
    // skip rows another claim has locked: concurrent workers take different actions
    const rows = await tx.$queryRaw<{ requestId: string }[]>`
      SELECT "requestId" FROM "Execution"
      WHERE "requesterKey" = ${viewer.id}::uuid
        AND "attempts" < ${settings.maxAttempts}
        AND ("status" = 'READY' OR ("status" = 'RUNNING' AND "leaseExpiresAt" <= ${now}))
        ${options.actionTypes ? Prisma.sql`AND "actionType" = ANY(${options.actionTypes}::text[])` : Prisma.empty}
      ORDER BY "readyAt", "requestId"
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED`
    const leases: Lease[] = []
    for (const { requestId } of rows) {
      const claimed = await lease(tx, viewer, requestId, options.leaseSeconds, now, settings)
      if (claimed) leases.push(claimed)
    }
    return leases
  })
}

const staleLease = () =>
  conflict('This lease is no longer valid: it ran out, or another claim has taken the action since. Nothing was changed.')

/** The running execution a lease token stands for, if the token is current and held by the viewer. */
async function current(tx: Tx, viewer: Viewer, leaseToken: string, now: Date): Promise<Execution> {
  const execution = await tx.execution.findUnique({ where: { leaseTokenHash: hashLease(leaseToken) } })
  if (!execution || execution.requesterKey !== viewer.id || execution.status !== 'RUNNING' || !execution.leaseExpiresAt || execution.leaseExpiresAt <= now) {
    throw staleLease()
  }
  return execution
}

/** The update of a current lease's execution, as a conditional update: a concurrent change wins or this one does. */
async function updateCurrent(tx: Tx, viewer: Viewer, leaseToken: string, now: Date, data: Prisma.ExecutionUpdateManyMutationInput) {
  const { count } = await tx.execution.updateMany({
    where: { leaseTokenHash: hashLease(leaseToken), requesterKey: viewer.id, status: 'RUNNING', leaseExpiresAt: { gt: now } },
    data,
  })
  if (count === 0) throw staleLease()
}

export async function extendLease(prisma: PrismaClient, viewer: Viewer, leaseToken: string, leaseSeconds: number, now: Date): Promise<Lease> {
  return prisma.$transaction(async (tx) => {
    const execution = await current(tx, viewer, leaseToken, now)
    const leaseExpiresAt = seconds(now, leaseSeconds)
    await updateCurrent(tx, viewer, leaseToken, now, { leaseExpiresAt })
    return { leaseToken, attempt: execution.attempts, leaseExpiresAt, requestId: execution.requestId }
  })
}

/**
 * Reports success: SUCCEEDED, with an EXECUTED event holding the result. The result is stored
 * twice (execution and event) and sent in webhooks: at most `maxJsonBytes` as JSON, as params.
 */
export async function completeExecution(prisma: PrismaClient, viewer: Viewer, leaseToken: string, result: unknown, now: Date, maxJsonBytes: number): Promise<string> {
  checkJsonSize(result, 'result', 'result', maxJsonBytes)
  return prisma.$transaction(async (tx) => {
    const execution = await current(tx, viewer, leaseToken, now)
    const value = (result ?? Prisma.DbNull) as Prisma.InputJsonValue
    await updateCurrent(tx, viewer, leaseToken, now, { status: 'SUCCEEDED', result: value, finishedAt: now, leaseTokenHash: null, leaseExpiresAt: null })
    await tx.approvalEvent.create({
      data: { requestId: execution.requestId, type: 'EXECUTED', ...actor(viewer), comment: `Attempt ${execution.attempts} succeeded.`, details: value, at: now },
    })
    return execution.requestId
  })
}

/**
 * Reports a failure. Retryable with attempts left: READY again (EXECUTION_RETRYING); otherwise
 * FAILED (EXECUTION_FAILED). Returns the request id and whether the action is ready again.
 */
export async function failExecution(
  prisma: PrismaClient,
  viewer: Viewer,
  leaseToken: string,
  error: string,
  retryable: boolean,
  now: Date,
  settings: ExecutionSettings,
): Promise<{ requestId: string; ready: boolean }> {
  return prisma.$transaction(async (tx) => {
    const execution = await current(tx, viewer, leaseToken, now)
    const ready = retryable && execution.attempts < settings.maxAttempts
    await updateCurrent(tx, viewer, leaseToken, now, {
      status: ready ? 'READY' : 'FAILED',
      error,
      leaseTokenHash: null,
      leaseExpiresAt: null,
      ...(ready ? { readyAt: now } : { finishedAt: now }),
    })
    const why = ready ? `Attempt ${execution.attempts} failed; it will run again: ${error}` : retryable ? `Failed ${execution.attempts} times: ${error}` : `Failed: ${error}`
    await tx.approvalEvent.create({
      data: { requestId: execution.requestId, type: ready ? 'EXECUTION_RETRYING' : 'EXECUTION_FAILED', ...actor(viewer), comment: why, details: { attempt: execution.attempts, error }, at: now },
    })
    return { requestId: execution.requestId, ready }
  })
}

/**
 * Actions whose lease ran out (at most `batch`, the oldest first): READY again (a failed attempt), or FAILED after the last one.
 * Each is a conditional update, so several instances may run this at once. Returns the ids made
 * ready again (their requesters' workers are told) and those that failed.
 */
export async function requeueExpiredLeases(prisma: PrismaClient, now: Date, settings: ExecutionSettings, batch = 200): Promise<{ ready: string[]; failed: string[] }> {
  const expired = await prisma.execution.findMany({
    where: { status: 'RUNNING', leaseExpiresAt: { lte: now } },
    select: { requestId: true, attempts: true },
    orderBy: { leaseExpiresAt: 'asc' },
    take: batch,
  })
  const ready: string[] = []
  const failed: string[] = []
  for (const { requestId, attempts } of expired) {
    const again = attempts < settings.maxAttempts
    const moved = await prisma.$transaction(async (tx) => {
      const { count } = await tx.execution.updateMany({
        where: { requestId, status: 'RUNNING', attempts, leaseExpiresAt: { lte: now } },
        data: {
          status: again ? 'READY' : 'FAILED',
          error: 'The lease ran out before the worker reported.',
          leaseTokenHash: null,
          leaseExpiresAt: null,
          ...(again ? { readyAt: now } : { finishedAt: now }),
        },
      })
      if (count === 0) return false
      await tx.approvalEvent.create({
        data: {
          requestId,
          type: again ? 'EXECUTION_RETRYING' : 'EXECUTION_FAILED',
          comment: again ? `Attempt ${attempts}'s lease ran out; it will run again.` : `Failed ${attempts} times: the last attempt's lease ran out.`,
          details: { attempt: attempts, error: 'lease expired' },
          at: now,
        },
      })
      return true
    })
    if (moved) (again ? ready : failed).push(requestId)
  }
  return { ready, failed }
}

/** The caller's actions ready to run now, oldest first (for the approvedActions subscription). */
export async function readyActions(prisma: PrismaClient, requesterKey: string, actionTypes: string[] | null, now: Date, settings: ExecutionSettings) {
  return prisma.execution.findMany({
    where: { requesterKey, ...claimable(now, settings), ...(actionTypes ? { actionType: { in: actionTypes } } : {}) },
    select: { requestId: true, attempts: true, actionType: true },
    orderBy: [{ readyAt: 'asc' }, { requestId: 'asc' }],
    take: 1000,
  })
}
