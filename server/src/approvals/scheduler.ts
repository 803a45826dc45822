// Deadlines: expiry, escalation, delayed auto-approval, and away users' return. All deadlines live in the database,
// so nothing is lost on restart, and every transition is a conditional update, so several
// instances may run the scheduler against one database and each request moves once. Each
// request moves in a transaction of its own: one that fails is logged (once) and retried on the
// next passes, and never holds up the others.
import type { PrismaClient } from '../db.js'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { addReviewers, assignmentColumns, finalize, requestRule } from './requests.js'
import { assign } from './reviewers.js'
import { stageOf } from './rules.js'
import { returnFromAway } from './delegation.js'
import { delegationEvents, lockRequest, passStage, subjectOf } from './stages.js'
import { DEFAULT_MAX_EXECUTION_ATTEMPTS, requeueExpiredLeases, type ExecutionSettings } from './executions.js'
import { startPeriodicTask, type Timers } from '../periodic.js'

/** How many due requests (leases, returns) one pass takes per kind of deadline; the next passes take the rest. */
const BATCH = 200

/** How many failed requests a scheduler remembers having reported. */
const REPORTED_CAP = 10_000

export interface DeadlineChanges {
  expired: string[]
  autoApproved: string[]
  escalated: string[]
  /** Approved actions whose lease ran out: ready to run again. */
  requeued: string[]
  /** Approved actions whose last attempt's lease ran out: failed. */
  executionsFailed: string[]
  /** Away users whose return date passed: available again. */
  returned: string[]
}

export type Transition = 'expire' | 'autoApprove' | 'escalate'

/** Where a pass reports the requests whose transition failed, and those that went through. */
export interface TransitionFailures {
  /** Whether this request's last transition failed (it then goes last in its batch). */
  has(id: string): boolean
  readonly size: number
  failed(id: string, transition: Transition, err: unknown): void
  succeeded(id: string): void
}

/**
 * Logs each request whose transition fails once, not on every pass that retries it: a request
 * is logged again only after it went through in between. The set of reported ids is bounded;
 * past `cap`, the oldest are forgotten (and would be logged again).
 */
export class ReportedFailures implements TransitionFailures {
  private readonly ids = new Set<string>()
  constructor(
    private readonly log: Logger,
    private readonly cap = REPORTED_CAP,
  ) {}
  has(id: string) {
    return this.ids.has(id)
  }
  get size() {
    return this.ids.size
  }
  failed(id: string, transition: Transition, err: unknown) {
    if (this.ids.has(id)) return
    while (this.ids.size >= this.cap) this.ids.delete(this.ids.values().next().value!)
    this.ids.add(id)
    this.log.error({ err, requestId: id, transition }, 'deadline transition failed; retried on later passes')
  }
  succeeded(id: string) {
    this.ids.delete(id)
  }
}

/**
 * Up to BATCH due requests, oldest first, but those that failed before go last: requests that
 * keep failing can never fill the batch and hold up the others.
 */
async function dueIds(prisma: PrismaClient, where: object, failures: TransitionFailures): Promise<string[]> {
  const rows = await prisma.approvalRequest.findMany({
    where: { status: 'PENDING', ...where },
    select: { id: true },
    orderBy: { id: 'asc' },
    take: BATCH + failures.size,
  })
  const ids = rows.map((r) => r.id)
  return [...ids.filter((id) => !failures.has(id)), ...ids.filter((id) => failures.has(id))].slice(0, BATCH)
}

/**
 * Runs `step` (one transaction) for each id on its own: an error fails that request's
 * transition only, is reported, and the pass goes on with the next. Returns the ids that changed.
 */
async function eachOnItsOwn(
  ids: string[],
  transition: Transition,
  failures: TransitionFailures,
  step: (id: string) => Promise<unknown>,
): Promise<string[]> {
  const done: string[] = []
  for (const id of ids) {
    let changed: unknown
    try {
      changed = await step(id)
    } catch (err) {
      failures.failed(id, transition, err)
      continue
    }
    failures.succeeded(id)
    if (changed) done.push(id)
  }
  return done
}

/**
 * Expires pending requests whose expiresAt has passed, unless an auto-approval fell due before;
 * a request whose rule says `onExpiry: APPROVE` is approved instead (silence means yes), by
 * nobody, with a comment that says so.
 */
export async function expireDueRequests(prisma: PrismaClient, now: Date, failures: TransitionFailures): Promise<string[]> {
  const due = { expiresAt: { lte: now } }
  return eachOnItsOwn(await dueIds(prisma, due, failures), 'expire', failures, (id) =>
    prisma.$transaction(async (tx) => {
      const row = await tx.approvalRequest.findUnique({ where: { id }, select: { autoApproveAt: true, expiresAt: true, ruleSnapshot: true } })
      if (!row) return null
      // an auto-approval due before the expiry wins; autoApproveDueRequests takes it
      if (row.autoApproveAt && row.expiresAt && row.autoApproveAt < row.expiresAt) return null
      if (requestRule(row).onExpiry === 'APPROVE') {
        return finalize(tx, id, 'APPROVED', null, 'Approved because nobody decided before the deadline (the rule approves on expiry).', now, due)
      }
      return finalize(tx, id, 'EXPIRED', null, 'Expired before anyone decided.', now, due)
    }),
  )
}

export async function autoApproveDueRequests(prisma: PrismaClient, now: Date, failures: TransitionFailures): Promise<string[]> {
  const due = { autoApproveAt: { lte: now } }
  return eachOnItsOwn(await dueIds(prisma, due, failures), 'autoApprove', failures, (id) =>
    prisma.$transaction(async (tx) => {
      await lockRequest(tx, id)
      const request = await tx.approvalRequest.findUnique({ where: { id } })
      if (!request || request.status !== 'PENDING') return null
      // the stage approves itself: the request is approved, or its next stage takes it
      return passStage(tx, request, null, 'Approved automatically after the delay.', now, due)
    }),
  )
}

/** Hands requests whose primary reviewers did not decide in time to the fallback. */
export async function escalateDueRequests(prisma: PrismaClient, now: Date, failures: TransitionFailures): Promise<string[]> {
  const due = { escalated: false, escalateAt: { lte: now } }
  return eachOnItsOwn(await dueIds(prisma, due, failures), 'escalate', failures, (id) =>
    prisma.$transaction(async (tx) => {
      const { count } = await tx.approvalRequest.updateMany({ where: { id, status: 'PENDING', ...due }, data: { escalated: true, escalateAt: null } })
      if (count === 0) return false
      const request = await tx.approvalRequest.findUniqueOrThrow({ where: { id } })
      const stage = stageOf(requestRule(request), request.stage)
      const assignment = await assign(tx, stage, await subjectOf(tx, request), 'fallback')
      const nobody = assignment.resolution.kind === 'reviewers' && assignment.resolution.reviewers.length === 0
      // never leave a request with nobody to decide it: when nobody else can, its reviewers keep it
      if (!nobody) {
        await tx.approvalReviewer.updateMany({ where: { requestId: id, active: true }, data: { active: false } })
        if (assignment.resolution.kind === 'reviewers') await addReviewers(tx, id, assignment.resolution.reviewers, now)
        await tx.approvalRequest.update({ where: { id }, data: assignmentColumns(assignment, now) })
      }
      const kept = nobody ? ['nobody else can decide it, so its reviewers keep it'] : []
      const why = [`Not decided within ${stage.escalateAfterSeconds} s`, ...assignment.escalations, ...kept].join('; ')
      await tx.approvalEvent.create({ data: { requestId: id, type: 'ESCALATED', comment: why, at: now } })
      if (!nobody && assignment.resolution.kind === 'reviewers') {
        await tx.approvalEvent.createMany({ data: delegationEvents(assignment.resolution.delegations).map((e) => ({ ...e, requestId: id, at: now })) })
      }
      if (assignment.resolution.kind === 'auto' && assignment.resolution.delaySeconds === 0) {
        await passStage(tx, await tx.approvalRequest.findUniqueOrThrow({ where: { id } }), null, 'Approved automatically by the fallback.', now)
      }
      return true
    }),
  )
}

/**
 * One pass over every kind of deadline at `now`. Each request moves in a transaction of its own;
 * one that fails is reported to `failures` and left for the next pass, and the others go on.
 */
export async function runDueDeadlines(
  prisma: PrismaClient,
  now: Date,
  failures: TransitionFailures,
  executions: ExecutionSettings = { maxAttempts: DEFAULT_MAX_EXECUTION_ATTEMPTS },
): Promise<DeadlineChanges> {
  const expired = await expireDueRequests(prisma, now, failures)
  const autoApproved = await autoApproveDueRequests(prisma, now, failures)
  const escalated = await escalateDueRequests(prisma, now, failures)
  const leases = await requeueExpiredLeases(prisma, now, executions, BATCH)
  const returned = await returnFromAway(prisma, now, BATCH)
  return { expired, autoApproved, escalated, requeued: leases.ready, executionsFailed: leases.failed, returned }
}

export interface Scheduler {
  /** Runs one pass now, after the one under way if any (tests call this after moving their clock). */
  runOnce(): Promise<DeadlineChanges>
  /** Stops the timer; resolves once the pass under way is done. */
  stop(): Promise<void>
}

/**
 * Whether a pass moved a full batch of some kind of deadline: more of that kind may be due, and
 * the next pass follows at once (after the event loop has had its turn) instead of a tick later.
 */
function tookFullBatch(changes: DeadlineChanges): boolean {
  const { expired, autoApproved, escalated, requeued, executionsFailed, returned } = changes
  return [expired.length, autoApproved.length, escalated.length, requeued.length + executionsFailed.length, returned.length].some((n) => n >= BATCH)
}

/**
 * Runs runDueDeadlines every `intervalMs` (not at all with 0, for tests that drive it), and
 * once at start to catch up on deadlines that passed while no server ran. Passes never overlap
 * within one instance (across instances the conditional updates decide): a tick that comes while
 * one is under way, `onChanges` included, is skipped. Each pass moves at most BATCH requests of
 * each kind; a backlog (a burst of requests with a short expiry, or a restart after an outage)
 * is worked off by passes that follow one another, each after the event loop has had its turn,
 * so the server keeps answering meanwhile.
 */
export function startScheduler(options: {
  prisma: PrismaClient
  clock: Clock
  intervalMs: number
  log: Logger
  /** Called after each pass that changed something, before the pass (and runOnce) resolves. */
  onChanges?: (changes: DeadlineChanges) => Promise<void> | void
  executions?: ExecutionSettings
  /** The timer's timers (tests). */
  timers?: Timers
}): Scheduler {
  const failures = new ReportedFailures(options.log)
  const task = startPeriodicTask({
    name: 'deadline scheduler',
    log: options.log,
    intervalMs: options.intervalMs,
    timers: options.timers,
    pass: async () => {
      const changes = await runDueDeadlines(options.prisma, options.clock.now(), failures, options.executions)
      if (Object.values(changes).some((ids) => ids.length > 0)) {
        options.log.info(changes, 'deadlines passed')
        await options.onChanges?.(changes)
      }
      return changes
    },
    more: tookFullBatch,
  })
  return { runOnce: task.runOnce, stop: task.stop }
}
