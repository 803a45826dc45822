// Sends the webhook outbox: deliveries that are due, after the transactions that wrote them have
// committed. Each instance runs one dispatcher; they share the work through the database:
//
// - a claim is one statement that takes due deliveries (FOR UPDATE SKIP LOCKED) and leases
//   them (leaseExpiresAt, and the attempt counted), so two instances never send one delivery at
//   the same time; a lease outlives the attempt's time limit, and one left by a crashed instance
//   runs out and the delivery is taken again (at least once, never lost);
// - each attempt's outcome is recorded fenced by its attempt number (a late one changes nothing),
//   with the next attempt from the shared schedule (retry-schedule.ts), and logged;
// - endpoints are independent: each may have only a few attempts under way on this instance, and
//   each attempt has its own time limit, so a slow or dead endpoint holds up neither the others
//   nor anything else (the decision that wrote the delivery committed before it was sent).
//
// It wakes after each mutation and each deadline pass (app.ts), and every `intervalMs` for what
// other instances wrote or retries fell due.
import type { Clock } from '../clock.js'
import type { PrismaClient } from '../db.js'
import type { DeliveryStatus } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import { startPeriodicTask } from '../periodic.js'
import { nextAttemptAt } from './retry-schedule.js'
import { DEFAULT_WEBHOOK_TIMEOUT_MS, sendWebhook, type AttemptOutcome } from './webhook-sender.js'

/** Attempts under way at once on one instance, over all endpoints. */
const DEFAULT_CONCURRENCY = 16
/** Attempts under way at once on one instance for one endpoint. */
const DEFAULT_PER_ENDPOINT = 4
/** How long a claim keeps a delivery from other instances, past the attempt's time limit. */
const LEASE_MARGIN_MS = 30_000
/** Attempts kept in each delivery's log. */
const ATTEMPT_LOG_SIZE = 20

export interface WebhookDispatcherOptions {
  prisma: PrismaClient
  clock: Clock
  log: Logger
  /** How often to look for due deliveries; 0: only through runOnce() (tests), and no waking either. */
  intervalMs: number
  allowPrivateNetworks: boolean
  /** Time limit of one attempt (default 10 s). */
  timeoutMs?: number
  concurrency?: number
  perEndpoint?: number
  /** The retry schedule's jitter (0 ≤ x < 1); tests pin it. */
  random?: () => number
  /**
   * The clock of the webhook-timestamp header. Receivers check it against their own clock (five
   * minutes either way), so it is the wall clock even when `clock` is a test's.
   */
  wallClock?: Clock
  /** Told after each attempt is recorded (tests wait on it instead of sleeping). */
  onAttempt?: (attempt: RecordedAttempt) => void
}

export interface RecordedAttempt extends AttemptOutcome {
  deliveryId: string
  endpointId: string
  attempt: number
  status: DeliveryStatus
  nextAttemptAt: Date | null
}

export interface WebhookDispatcher {
  /** Looks for due deliveries soon (coalesced); a no-op when the dispatcher only runs on demand, or knows of no enabled endpoint. */
  wake(): void
  /** An endpoint was added or changed on this instance: stop assuming there are none. */
  endpointsChanged(): void
  /** Sends every delivery due now and waits for the attempts (and for those they make due at once); the number of attempts. */
  runOnce(): Promise<number>
  /** Stops looking; waits for the attempts under way. */
  stop(): Promise<void>
}

interface Claimed {
  id: string
  endpointId: string
  url: string
  secret: string
  payload: unknown
  attempts: number
}

export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { prisma, clock, log } = options
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const perEndpoint = options.perEndpoint ?? DEFAULT_PER_ENDPOINT
  const random = options.random ?? Math.random
  const wallClock = options.wallClock ?? { now: () => new Date() }
  const automatic = options.intervalMs > 0

  /** The attempts under way, by delivery id. */
  const sending = new Map<string, { endpointId: string; done: Promise<void> }>()
  let stopped = false
  /** False once an interval pass found no enabled endpoint: wakes then cost no query until one is added. */
  let anyEndpoint: boolean | undefined

  /** Leases up to what this instance may still start, at most `perEndpoint` under way per endpoint, oldest due first. */
  async function claim(): Promise<Claimed[]> {
    const free = concurrency - sending.size
    if (free <= 0) return []
    const busy: Record<string, number> = {}
    for (const { endpointId } of sending.values()) busy[endpointId] = (busy[endpointId] ?? 0) + 1
    const now = clock.now().toISOString()
    const leaseUntil = new Date(clock.now().getTime() + timeoutMs + LEASE_MARGIN_MS).toISOString()
    return prisma.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT d."id", d."nextAttemptAt"
        FROM "WebhookEndpoint" e
        CROSS JOIN LATERAL (
          SELECT d."id", d."nextAttemptAt" FROM "WebhookDelivery" d
          WHERE d."endpointId" = e."id" AND d."status" = 'PENDING' AND d."nextAttemptAt" <= ${now}::timestamp
            AND (d."leaseExpiresAt" IS NULL OR d."leaseExpiresAt" <= ${now}::timestamp)
          ORDER BY d."nextAttemptAt", d."id"
          LIMIT GREATEST(0, ${perEndpoint}::int - COALESCE((${JSON.stringify(busy)}::jsonb ->> e."id"::text)::int, 0))
          FOR UPDATE OF d SKIP LOCKED
        ) d
        WHERE e."enabled"
        ORDER BY d."nextAttemptAt", d."id"
        LIMIT ${free}
      )
      UPDATE "WebhookDelivery" w
      SET "attempts" = w."attempts" + 1, "leaseExpiresAt" = ${leaseUntil}::timestamp, "lastAttemptAt" = ${now}::timestamp, "updatedAt" = ${now}::timestamp
      FROM due, "WebhookEndpoint" e
      WHERE w."id" = due."id" AND e."id" = w."endpointId"
      RETURNING w."id", w."endpointId", e."url", e."secret", w."payload", w."attempts"`
  }

  /** Records an attempt's outcome, if the delivery is still this attempt's, with its log entry. */
  async function record(delivery: Claimed, outcome: AttemptOutcome, durationMs: number): Promise<RecordedAttempt | null> {
    const now = clock.now()
    const next = outcome.ok ? null : nextAttemptAt(delivery.attempts, now, random)
    const status: DeliveryStatus = outcome.ok ? 'SUCCEEDED' : next ? 'PENDING' : 'FAILED'
    const at = now.toISOString()
    const rows = await prisma.$queryRaw<{ id: string }[]>`
      WITH recorded AS (
        UPDATE "WebhookDelivery"
        SET "status" = ${status}::"DeliveryStatus", "nextAttemptAt" = ${next?.toISOString() ?? null}::timestamp, "leaseExpiresAt" = NULL,
          "lastStatusCode" = ${outcome.statusCode}::int, "lastError" = ${outcome.error}::text, "updatedAt" = ${at}::timestamp
        WHERE "id" = ${delivery.id}::uuid AND "attempts" = ${delivery.attempts} AND "status" = 'PENDING'
        RETURNING "id"
      ), logged AS (
        INSERT INTO "WebhookAttempt" ("deliveryId", "attempt", "at", "statusCode", "error", "durationMs")
        SELECT "id", ${delivery.attempts}::int, ${at}::timestamp, ${outcome.statusCode}::int, ${outcome.error}::text, ${durationMs}::int FROM recorded
      ), pruned AS (
        -- the log keeps the latest attempts (this one, inserted alongside, is not seen here)
        DELETE FROM "WebhookAttempt" WHERE "deliveryId" = ${delivery.id}::uuid AND "id" IN (
          SELECT "id" FROM "WebhookAttempt" WHERE "deliveryId" = ${delivery.id}::uuid ORDER BY "id" DESC OFFSET ${ATTEMPT_LOG_SIZE - 1}
        ) AND EXISTS (SELECT 1 FROM recorded)
      )
      SELECT "id" FROM recorded`
    if (rows.length === 0) return null
    return { ...outcome, deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempts, status, nextAttemptAt: next }
  }

  async function attempt(delivery: Claimed): Promise<void> {
    const started = performance.now()
    const outcome = await sendWebhook(
      { id: `msg_${delivery.id}`, secret: delivery.secret, url: delivery.url, body: JSON.stringify(delivery.payload), sentAt: wallClock.now() },
      { timeoutMs, allowPrivateNetworks: options.allowPrivateNetworks },
    )
    const recorded = await record(delivery, outcome, Math.round(performance.now() - started))
    const context = { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempts, statusCode: outcome.statusCode }
    if (!recorded) log.warn(context, 'webhook attempt not recorded: the delivery changed meanwhile')
    else if (outcome.ok) log.debug(context, 'webhook delivered')
    else log.info({ ...context, error: outcome.error, status: recorded.status, nextAttemptAt: recorded.nextAttemptAt }, 'webhook attempt failed')
    if (recorded) options.onAttempt?.(recorded)
  }

  /** Claims and starts attempts (without waiting for them); the number started. */
  async function pass(): Promise<number> {
    const claimed = await claim()
    for (const delivery of claimed) {
      const done = attempt(delivery)
        .catch((err) => log.error({ err, deliveryId: delivery.id }, 'webhook attempt could not be recorded; its lease will run out and it is sent again'))
        .finally(() => {
          sending.delete(delivery.id)
          // a slot is free: deliveries held back by the limits may go now
          if (automatic) wake()
        })
      sending.set(delivery.id, { endpointId: delivery.endpointId, done })
    }
    return claimed.length
  }

  // passes never overlap: a wake during one queues one more after it (woken only when automatic)
  const dispatching = startPeriodicTask({ name: 'webhook dispatcher', log, intervalMs: 0, pass })
  function wake() {
    if (!automatic || stopped || anyEndpoint === false) return
    dispatching.wake()
  }

  /** The timer's pass: whether any endpoint is enabled (other instances may have added one), then a dispatch pass. */
  async function lookForEndpoints() {
    try {
      anyEndpoint = (await prisma.webhookEndpoint.count({ where: { enabled: true }, take: 1 })) > 0
    } catch (err) {
      log.error({ err }, 'webhook dispatcher could not read the endpoints')
      anyEndpoint = undefined
    }
    wake()
  }
  const polling = startPeriodicTask({ name: 'webhook endpoint check', log, intervalMs: automatic ? options.intervalMs : 0, pass: lookForEndpoints })

  return {
    wake,
    endpointsChanged() {
      anyEndpoint = undefined
    },
    async runOnce() {
      let total = 0
      for (;;) {
        const started = await dispatching.runOnce()
        total += started
        await Promise.all([...sending.values()].map((s) => s.done))
        if (started === 0) return total
      }
    },
    async stop() {
      stopped = true
      await polling.stop()
      await dispatching.stop()
      await Promise.all([...sending.values()].map((s) => s.done))
    },
  }
}

