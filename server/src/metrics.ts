// Prometheus metrics (prom-client), one registry per app. GraphQL operations are measured by
// @graphql-yoga/plugin-prometheus (see app.ts); what the service does is counted here:
//
// - from the audit sequencer's passes (decisions, expiries, escalations, executions): each event is
//   numbered once, by one instance, so summing a counter over the instances counts it once;
// - on each scrape, from the database (pending requests by action type, how late the oldest due
//   deadline is) and from the instance (WebSocket connections and operations);
// - by the outboxes' senders (webhook, email and Slack deliveries by outcome).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { NumberedEvent } from './approvals/audit-log.js'
import type { Clock } from './clock.js'
import type { PrismaClient } from './db.js'

const DECISIONS = new Set(['APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED'])
const EXECUTION_OUTCOMES: Record<string, string> = {
  EXECUTED: 'SUCCEEDED',
  EXECUTION_FAILED: 'FAILED',
  EXECUTION_RETRYING: 'RETRYING',
  EXECUTION_STARTED: 'STARTED',
}

/** What a scrape reads of the database, once for the gauges that need it. */
interface DatabaseReadings {
  pending: { actionType: string; count: number }[]
  lagSeconds: number
}

export interface Metrics {
  registry: Registry
  /** Counts what an audit sequencer pass numbered. */
  countEvents(events: NumberedEvent[]): void
  /** A webhook, email or Slack message sent (or given up). */
  deliveries: Counter<'channel' | 'outcome'>
}

export function createMetrics({
  prisma,
  clock,
  connections,
}: {
  prisma: PrismaClient
  clock: Clock
  /** The instance's open WebSocket connections and their operations. */
  connections: () => { connections: number; operations: number }
}): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const decisions = new Counter({
    name: 'approvals_decisions_total',
    help: 'Requests settled, by outcome (APPROVED, REJECTED, EXPIRED, CANCELLED), the resolver type of their rule, and who settled them (user, agent, service).',
    labelNames: ['outcome', 'resolver', 'by'] as const,
    registers: [registry],
  })
  const decisionSeconds = new Histogram({
    name: 'approvals_decision_seconds',
    help: 'Time from a request to its settlement, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600],
    registers: [registry],
  })
  const escalations = new Counter({ name: 'approvals_escalations_total', help: 'Requests handed to their fallback reviewers.', registers: [registry] })
  const executions = new Counter({
    name: 'approvals_executions_total',
    help: 'Approved actions run, by outcome: STARTED (an attempt began: their sum is the attempts), RETRYING (an attempt failed, another follows), SUCCEEDED, FAILED (for good).',
    labelNames: ['status'] as const,
    registers: [registry],
  })
  const deliveries = new Counter({
    name: 'approvals_deliveries_total',
    help: 'Outbox deliveries by channel (webhook, email, slack) and outcome (succeeded, failed: an attempt failed; given_up: the last one did).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  })

  // the database's readings, once per scrape however many gauges ask: a scrape collects every
  // metric at once, so the gauges share the reading in flight
  let reading: Promise<DatabaseReadings> | null = null
  const read = (): Promise<DatabaseReadings> =>
    (reading ??= (async () => {
      const at = clock.now()
      const [pending, [due]] = await Promise.all([
        prisma.approvalRequest.groupBy({ by: ['actionType'], where: { status: 'PENDING' }, _count: { _all: true } }),
        prisma.$queryRaw<{ oldest: Date | null }[]>`
          SELECT min(least("expiresAt", "escalateAt", "autoApproveAt")) AS "oldest"
          FROM "ApprovalRequest" WHERE "status" = 'PENDING'`,
      ])
      const oldest = due?.oldest ?? null
      return {
        pending: pending.map((p) => ({ actionType: p.actionType, count: p._count._all })),
        lagSeconds: oldest && oldest < at ? (at.getTime() - oldest.getTime()) / 1000 : 0,
      }
    })().finally(() => {
      reading = null
    }))

  new Gauge({
    name: 'approvals_pending_requests',
    help: 'Requests waiting for a decision, by action type.',
    labelNames: ['action_type'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      for (const p of (await read()).pending) this.set({ action_type: p.actionType }, p.count)
    },
  })
  new Gauge({
    name: 'approvals_scheduler_lag_seconds',
    help: 'How late the oldest due deadline (expiry, escalation, automatic approval) of a pending request is: 0 while the scheduler keeps up.',
    registers: [registry],
    async collect() {
      this.set((await read()).lagSeconds)
    },
  })
  new Gauge({
    name: 'approvals_websocket_connections',
    help: "Open WebSocket connections on this instance.",
    registers: [registry],
    collect() {
      this.set(connections().connections)
    },
  })
  new Gauge({
    name: 'approvals_websocket_operations',
    help: 'Subscriptions (and other operations) running over WebSocket on this instance.',
    registers: [registry],
    collect() {
      this.set(connections().operations)
    },
  })

  return {
    registry,
    deliveries,
    countEvents(events) {
      for (const e of events) {
        if (DECISIONS.has(e.type)) {
          const by = e.byUser ? 'user' : e.byAgent ? 'agent' : 'service'
          decisions.inc({ outcome: e.type, resolver: e.resolverType, by })
          decisionSeconds.observe({ outcome: e.type }, Math.max(0, (e.at.getTime() - e.requestedAt.getTime()) / 1000))
        } else if (e.type === 'ESCALATED') {
          escalations.inc()
        } else if (e.type in EXECUTION_OUTCOMES) {
          executions.inc({ status: EXECUTION_OUTCOMES[e.type]! })
        }
      }
    },
  }
}
