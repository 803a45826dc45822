// Deadlines: expiry, escalation and delayed auto-approval. All deadlines live in the database,
// so nothing is lost on restart, and every transition is a conditional update, so several
// instances may run the scheduler against one database and each request moves once.
import type { PrismaClient } from '../db.js'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { addReviewers, assignmentColumns, finalize, requestRule } from './requests.js'
import { assign } from './reviewers.js'

/** How many due requests one pass takes per kind of deadline; the next pass takes the rest. */
const BATCH = 200

export interface DeadlineChanges {
  expired: string[]
  autoApproved: string[]
  escalated: string[]
}

async function dueIds(prisma: PrismaClient, where: object): Promise<string[]> {
  const rows = await prisma.approvalRequest.findMany({ where: { status: 'PENDING', ...where }, select: { id: true }, orderBy: { id: 'asc' }, take: BATCH })
  return rows.map((r) => r.id)
}

/**
 * Expires pending requests whose expiresAt has passed, unless an auto-approval fell due before.
 */
export async function expireDueRequests(prisma: PrismaClient, now: Date): Promise<string[]> {
  const due = { expiresAt: { lte: now } }
  const ids = await dueIds(prisma, due)
  const done: string[] = []
  for (const id of ids) {
    const expired = await prisma.$transaction(async (tx) => {
      const row = await tx.approvalRequest.findUnique({ where: { id }, select: { autoApproveAt: true, expiresAt: true } })
      // an auto-approval due before the expiry wins; autoApproveDueRequests takes it
      if (row?.autoApproveAt && row.expiresAt && row.autoApproveAt < row.expiresAt) return null
      return finalize(tx, id, 'EXPIRED', null, 'Expired before anyone decided.', now, due)
    })
    if (expired) done.push(id)
  }
  return done
}

export async function autoApproveDueRequests(prisma: PrismaClient, now: Date): Promise<string[]> {
  const due = { autoApproveAt: { lte: now } }
  const done: string[] = []
  for (const id of await dueIds(prisma, due)) {
    const approved = await prisma.$transaction((tx) => finalize(tx, id, 'APPROVED', null, 'Approved automatically after the delay.', now, due))
    if (approved) done.push(id)
  }
  return done
}

/** Hands requests whose primary reviewers did not decide in time to the fallback. */
export async function escalateDueRequests(prisma: PrismaClient, now: Date): Promise<string[]> {
  const due = { escalated: false, escalateAt: { lte: now } }
  const done: string[] = []
  for (const id of await dueIds(prisma, due)) {
    const escalated = await prisma.$transaction(async (tx) => {
      const { count } = await tx.approvalRequest.updateMany({ where: { id, status: 'PENDING', ...due }, data: { escalated: true, escalateAt: null } })
      if (count === 0) return false
      const request = await tx.approvalRequest.findUniqueOrThrow({ where: { id } })
      const rule = requestRule(request)
      const assignment = await assign(
        tx,
        rule,
        {
          requesterAgentId: request.requesterAgentId,
          onBehalfOfId: request.onBehalfOfId,
          recordRefId: request.recordRefId,
          allowSelfApproval: rule.allowSelfApproval,
        },
        'fallback',
      )
      await tx.approvalReviewer.updateMany({ where: { requestId: id, active: true }, data: { active: false } })
      if (assignment.resolution.kind === 'reviewers') await addReviewers(tx, id, assignment.resolution.reviewers, now)
      await tx.approvalRequest.update({ where: { id }, data: assignmentColumns(assignment, now) })
      const why = [`Not decided within ${rule.escalateAfterSeconds} s`, ...assignment.escalations].join('; ')
      await tx.approvalEvent.create({ data: { requestId: id, type: 'ESCALATED', comment: why, at: now } })
      if (assignment.resolution.kind === 'auto' && assignment.resolution.delaySeconds === 0) {
        await finalize(tx, id, 'APPROVED', null, 'Approved automatically by the fallback.', now)
      }
      return true
    })
    if (escalated) done.push(id)
  }
  return done
}

/** One pass over every kind of deadline at `now`. */
export async function runDueDeadlines(prisma: PrismaClient, now: Date): Promise<DeadlineChanges> {
  const expired = await expireDueRequests(prisma, now)
  const autoApproved = await autoApproveDueRequests(prisma, now)
  const escalated = await escalateDueRequests(prisma, now)
  return { expired, autoApproved, escalated }
}

export interface Scheduler {
  /** Runs one pass now (tests call this after moving their clock). */
  runOnce(): Promise<DeadlineChanges>
  stop(): Promise<void>
}

/**
 * Runs runDueDeadlines every `intervalMs` (not at all with 0, for tests that drive it), and
 * once at start to catch up on deadlines that passed while no server ran.
 */
export function startScheduler(options: {
  prisma: PrismaClient
  clock: Clock
  intervalMs: number
  log: Logger
  /** Called after each pass that changed something, before runOnce resolves. */
  onChanges?: (changes: DeadlineChanges) => Promise<void> | void
}): Scheduler {
  let running: Promise<DeadlineChanges> | undefined
  const runOnce = async () => {
    // passes never overlap within one instance; across instances the conditional updates decide
    while (running) await running.catch(() => {})
    running = runDueDeadlines(options.prisma, options.clock.now())
    try {
      const changes = await running
      if (changes.expired.length || changes.autoApproved.length || changes.escalated.length) {
        options.log.info(changes, 'deadlines passed')
        await options.onChanges?.(changes)
      }
      return changes
    } finally {
      running = undefined
    }
  }
  const tick = () => void runOnce().catch((err) => options.log.error({ err }, 'scheduler pass failed'))
  const timer = options.intervalMs > 0 ? setInterval(tick, options.intervalMs) : undefined
  if (timer) tick()
  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer)
      await running?.catch(() => {})
    },
  }
}
