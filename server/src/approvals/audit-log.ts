// The audit log: every request's events, tamper-evident and in one service-wide order.
//
// Chains. Each event is chained to the one before it in its request: the database sets its
// `position`, `prevHash` and `hash` (SHA-256 over the previous hash and the event's content) on
// insert (trigger approval_event_chain, see the audit_log migration), so every writer, the
// single-statement hot paths included, chains its events with no extra round trip, and writers of
// different requests never wait on each other.
//
// Feed. Event ids come from a sequence, and transactions commit out of order: event 102 may be
// visible before event 101 is. A follower that kept "the last id I saw" would skip 101. So the
// feed's order is not the id but a `sequence` given after commit by the sequencer: it numbers
// committed events that have none yet, under a lock on its one state row, so numbers only grow
// and a number once given never lands before one already handed out. The feed returns numbered
// events only: a follower that keeps its last sequence never misses an event and never sees one
// twice. With one session (PGlite), transactions commit in the order they write, so the chain
// trigger gives each event its id as its number when it is written, and the sequencer's pass only
// reads what is new to anchor it (see the events_numbered_on_insert migration).
//
// Requests. The log vouches for each request's row too: what was asked is hashed into its
// REQUESTED event, a reviewer's edit into each EDITED and APPROVED event (a digest the chain
// trigger computes from the row, see the audit_request_digest migration), and the decision's
// columns are those of the event that made it; verifyAuditLog checks each row against them.
//
// Checkpoints. Each numbering pass writes a checkpoint, chained to the one before, holding the
// heads (request, position, hash) of the chains that grew in it, so that removing the last events
// of a request is noticed too.
import type { Prisma, PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import { startPeriodicTask } from '../periodic.js'

/** How many events one numbering pass takes; the next pass takes the rest. */
const SEQUENCER_BATCH = 1000

export interface ChainHead {
  requestId: string
  position: number
  hash: string
}

/**
 * Numbers the committed events that have no sequence yet (oldest first), and anchors the heads of
 * the chains they extend in a new checkpoint; one pass, in one transaction. Several instances may
 * call it: the sequencer's row lock makes them take turns. Answers how many events it numbered.
 */
export async function sequenceEvents(prisma: PrismaClient, batch = SEQUENCER_BATCH, onNumbered?: (events: NumberedEvent[]) => void): Promise<number> {
  const numbered = await prisma.$transaction(async (tx) => {
    const [state] = await tx.$queryRaw<{ lastSequence: bigint; lastHash: string | null; singleSession: boolean }[]>`
      SELECT "lastSequence", "lastHash", coalesce(current_setting('approvals.single_session', true), '') = 'on' AS "singleSession"
      FROM "AuditSequencer" WHERE "id" = 1 FOR UPDATE`
    if (!state) throw new Error('the audit sequencer has no state row: are the migrations applied?')
    // read after the lock: every number given before is visible now
    const numbered = state.singleSession ? await readNumbered(tx, state.lastSequence, batch) : await numberCommitted(tx, state.lastSequence, batch)
    if (numbered.length === 0) return []
    const heads = new Map<string, ChainHead>()
    let upTo = state.lastSequence
    for (const e of numbered) {
      if (e.sequence > upTo) upTo = e.sequence
      const head = heads.get(e.requestId)
      if (!head || e.position > head.position) heads.set(e.requestId, { requestId: e.requestId, position: e.position, hash: e.hash })
    }
    const anchored = JSON.stringify([...heads.values()].sort((a, b) => a.requestId.localeCompare(b.requestId)))
    const [checkpoint] = await tx.$queryRaw<{ hash: string }[]>`
      INSERT INTO "AuditCheckpoint" ("upToSequence", "heads", "prevHash", "hash")
      VALUES (${upTo}, ${anchored}::jsonb, ${state.lastHash}, approval_checkpoint_hash(${state.lastHash}, ${upTo}::bigint, ${anchored}::jsonb))
      RETURNING "hash"`
    await tx.$executeRaw`UPDATE "AuditSequencer" SET "lastSequence" = ${upTo}, "lastHash" = ${checkpoint!.hash} WHERE "id" = 1`
    return numbered
  })
  // each event is numbered once, by one instance: what is counted here is counted once service-wide
  if (numbered.length > 0) onNumbered?.(numbered)
  return numbered.length
}

type Tx = Prisma.TransactionClient
type Numbered = NumberedEvent & { position: number; hash: string; sequence: bigint }

/** Numbers the committed events that have no sequence yet, oldest first, after `last`. */
function numberCommitted(tx: Tx, last: bigint, batch: number): Promise<Numbered[]> {
  return tx.$queryRaw<Numbered[]>`
    WITH batch AS (
      SELECT "id", ${last}::bigint + row_number() OVER (ORDER BY "id") AS "seq"
      FROM (SELECT "id" FROM "ApprovalEvent" WHERE "sequence" IS NULL ORDER BY "id" LIMIT ${batch}) pending
    )
    UPDATE "ApprovalEvent" e SET "sequence" = batch."seq"
    FROM batch, "ApprovalRequest" r
    WHERE e."id" = batch."id" AND r."id" = e."requestId"
    RETURNING e."requestId"::text AS "requestId", e."position", e."hash", e."sequence", e."type"::text AS "type", e."details",
      e."at", e."actorUserId" IS NOT NULL AS "byUser", e."actorAgentId" IS NOT NULL AS "byAgent",
      r."resolverType"::text AS "resolverType", r."createdAt" AS "requestedAt"`
}

/**
 * With one session (PGlite) the chain trigger numbered each event with its id as it was written:
 * reads those after `last`. An event that has no number (written by a session that did not say it
 * was the only one) gets its id too, which is safe there: with one session, nothing commits
 * during this pass, and everything committed before it is read by it.
 */
function readNumbered(tx: Tx, last: bigint, batch: number): Promise<Numbered[]> {
  return tx.$queryRaw<Numbered[]>`
    WITH unnumbered AS (
      UPDATE "ApprovalEvent" SET "sequence" = "id" WHERE "sequence" IS NULL RETURNING "id"
    )
    SELECT e."requestId"::text AS "requestId", e."position", e."hash", coalesce(e."sequence", e."id") AS "sequence", e."type"::text AS "type", e."details",
      e."at", e."actorUserId" IS NOT NULL AS "byUser", e."actorAgentId" IS NOT NULL AS "byAgent",
      r."resolverType"::text AS "resolverType", r."createdAt" AS "requestedAt"
    FROM "ApprovalEvent" e JOIN "ApprovalRequest" r ON r."id" = e."requestId"
    WHERE e."sequence" > ${last}::bigint OR e."id" IN (SELECT "id" FROM unnumbered)
    ORDER BY coalesce(e."sequence", e."id")
    LIMIT ${batch}`
}

/** An event as the sequencer numbered it, with what the metrics count of it. */
export interface NumberedEvent {
  requestId: string
  type: string
  details: unknown
  at: Date
  byUser: boolean
  byAgent: boolean
  resolverType: string
  requestedAt: Date
}

/** What verifyAuditLog found. */
export interface AuditVerification {
  ok: boolean
  checkedEvents: number
  checkedCheckpoints: number
  /** The first event (in the feed's order) whose chain is broken: changed, unlinked, or the one after a gap. */
  firstBrokenEventId: bigint | null
  /** What is wrong, in words; null when ok. */
  problem: string | null
}

const EVENT_PROBLEMS = {
  changed: 'its content no longer matches its hash: it was changed after it was written',
  unlinked: 'it no longer follows the event its hash chain names: an event before it was removed or changed',
  gap: 'an event before it in its request is missing',
} as const

/**
 * Recomputes every event's hash from its stored content and the chain, and every checkpoint's
 * from its own; checks that each anchored head is still there as it was, then that each request's
 * row still says what its events recorded (firstChangedRequest). Reports the first breakage, in
 * the feed's order. Numbers what is pending first, so the newest events count too.
 */
export async function verifyAuditLog(prisma: PrismaClient): Promise<AuditVerification> {
  while ((await sequenceEvents(prisma)) === SEQUENCER_BATCH) {
    // numbered a full batch: there may be more
  }
  const [counts] = await prisma.$queryRaw<{ events: bigint; checkpoints: bigint; maxSequence: bigint | null; anchoredUpTo: bigint | null }[]>`
    SELECT (SELECT count(*) FROM "ApprovalEvent") AS "events",
      (SELECT count(*) FROM "AuditCheckpoint") AS "checkpoints",
      (SELECT max("sequence") FROM "ApprovalEvent") AS "maxSequence",
      (SELECT max("upToSequence") FROM "AuditCheckpoint") AS "anchoredUpTo"`
  const base = { checkedEvents: Number(counts!.events), checkedCheckpoints: Number(counts!.checkpoints) }
  const broken = (firstBrokenEventId: bigint | null, problem: string): AuditVerification => ({ ok: false, ...base, firstBrokenEventId, problem })

  const [event] = await prisma.$queryRaw<{ id: bigint; problem: keyof typeof EVENT_PROBLEMS }[]>`
    SELECT x."id", x."problem" FROM (
      SELECT e."id", e."sequence",
        CASE
          WHEN e."hash" <> approval_event_hash(e) THEN 'changed'
          WHEN e."prevHash" IS DISTINCT FROM lag(e."hash") OVER w THEN 'unlinked'
          WHEN e."position" <> coalesce(lag(e."position") OVER w, 0) + 1 THEN 'gap'
        END AS "problem"
      FROM "ApprovalEvent" e
      WINDOW w AS (PARTITION BY e."requestId" ORDER BY e."position")
    ) x
    WHERE x."problem" IS NOT NULL
    ORDER BY x."sequence" NULLS LAST, x."id"
    LIMIT 1`
  if (event) return broken(event.id, `Event ${event.id}: ${EVENT_PROBLEMS[event.problem]}.`)

  const [checkpoint] = await prisma.$queryRaw<{ id: bigint; upToSequence: bigint; changed: boolean }[]>`
    SELECT x."id", x."upToSequence", x."changed" FROM (
      SELECT c."id", c."upToSequence",
        c."hash" <> approval_checkpoint_hash(c."prevHash", c."upToSequence", c."heads") AS "changed",
        c."prevHash" IS DISTINCT FROM lag(c."hash") OVER (ORDER BY c."upToSequence") AS "unlinked"
      FROM "AuditCheckpoint" c
    ) x
    WHERE x."changed" OR x."unlinked"
    ORDER BY x."upToSequence"
    LIMIT 1`
  if (checkpoint) {
    const what = checkpoint.changed ? 'its content no longer matches its hash' : 'the checkpoint before it was removed or changed'
    return broken(await firstEventAfter(prisma, checkpoint.upToSequence), `Checkpoint ${checkpoint.id} (events up to ${checkpoint.upToSequence}): ${what}.`)
  }

  // a head a checkpoint anchored that is gone or changed: the last events of a request were removed
  const [head] = await prisma.$queryRaw<{ checkpointId: bigint; requestId: string; position: number; tailId: bigint | null }[]>`
    SELECT c."id" AS "checkpointId", h."requestId"::text AS "requestId", h."position",
      (SELECT t."id" FROM "ApprovalEvent" t WHERE t."requestId" = h."requestId" ORDER BY t."position" DESC LIMIT 1) AS "tailId"
    FROM "AuditCheckpoint" c
    CROSS JOIN LATERAL jsonb_to_recordset(c."heads") AS h("requestId" uuid, "position" integer, "hash" text)
    LEFT JOIN "ApprovalEvent" e ON e."requestId" = h."requestId" AND e."position" = h."position"
    WHERE e."id" IS NULL OR e."hash" <> h."hash"
    ORDER BY c."upToSequence"
    LIMIT 1`
  if (head) {
    return broken(
      head.tailId,
      `Request ${head.requestId}: its event at position ${head.position}, anchored by checkpoint ${head.checkpointId}, is missing; the request's events end before it.`,
    )
  }
  // events numbered past the last checkpoint: the last checkpoints were removed
  if (counts!.maxSequence !== null && (counts!.anchoredUpTo === null || counts!.maxSequence > counts!.anchoredUpTo)) {
    return broken(await firstEventAfter(prisma, counts!.anchoredUpTo ?? 0n), `Events after sequence ${counts!.anchoredUpTo ?? 0} are anchored by no checkpoint: checkpoints were removed.`)
  }

  const request = await firstChangedRequest(prisma)
  if (request) return broken(request.eventId, `Request ${request.requestId}: ${REQUEST_PROBLEMS[request.problem](request.status)}.`)
  return { ok: true, ...base, firstBrokenEventId: null, problem: null }
}

const REQUEST_PROBLEMS = {
  asked: () => 'what was asked (params, context, summary, requester, rule) no longer matches what its REQUESTED event recorded: it was changed after it was made',
  edit: () => 'its edited params (approvedParams, edited) no longer match what its last EDITED or APPROVED event recorded',
  unrecordedEdit: () => 'it holds edited params, but no event recorded an edit',
  pendingDecided: () => 'it is PENDING, but it holds a decision or its events record one',
  status: (status: string) => `its status (${status}) or decision time (decidedAt) no longer match the last event that decided it`,
  decider: (status: string) => `who decided it or their comment (decidedBy, decisionComment) no longer match its ${status} event`,
} as const

/**
 * The first request (oldest first) whose row says something its chained events do not: what was
 * asked against its REQUESTED event's digest, a reviewer's edit against the last EDITED or
 * APPROVED event's, and the decision's columns against the event that made it (APPROVED,
 * REJECTED, EXPIRED or CANCELLED: its type, actor, comment and time). Requests whose events
 * predate the digests are checked on their decision only.
 */
async function firstChangedRequest(prisma: PrismaClient) {
  const [row] = await prisma.$queryRaw<{ requestId: string; status: string; eventId: bigint | null; problem: keyof typeof REQUEST_PROBLEMS }[]>`
    SELECT x."requestId", x."status", x."eventId", x."problem" FROM (
      SELECT r."id"::text AS "requestId", r."status"::text AS "status", r."createdAt",
        CASE
          WHEN asked."requestDigest" IS NOT NULL AND asked."requestDigest" <> approval_request_asked_digest(r) THEN 'asked'
          WHEN edit."id" IS NOT NULL AND edit."requestDigest" <> approval_request_edit_digest(r) THEN 'edit'
          WHEN edit."id" IS NULL AND asked."requestDigest" IS NOT NULL AND (r."edited" OR r."approvedParams" IS NOT NULL) THEN 'unrecordedEdit'
          WHEN r."status" = 'PENDING' AND (final."id" IS NOT NULL OR r."decidedAt" IS NOT NULL
            OR r."decidedByUserId" IS NOT NULL OR r."decidedByAgentId" IS NOT NULL OR r."decisionComment" IS NOT NULL) THEN 'pendingDecided'
          WHEN r."status" <> 'PENDING' AND (final."id" IS NULL OR final."type"::text <> r."status"::text OR final."at" IS DISTINCT FROM r."decidedAt") THEN 'status'
          WHEN r."status" IN ('APPROVED', 'REJECTED') AND (final."actorUserId" IS DISTINCT FROM r."decidedByUserId"
            OR final."actorAgentId" IS DISTINCT FROM r."decidedByAgentId" OR final."comment" IS DISTINCT FROM r."decisionComment") THEN 'decider'
          WHEN r."status" IN ('EXPIRED', 'CANCELLED') AND (r."decidedByUserId" IS NOT NULL OR r."decidedByAgentId" IS NOT NULL OR r."decisionComment" IS NOT NULL) THEN 'decider'
        END AS "problem",
        CASE
          WHEN asked."requestDigest" IS NOT NULL AND asked."requestDigest" <> approval_request_asked_digest(r) THEN asked."id"
          WHEN edit."id" IS NOT NULL AND edit."requestDigest" <> approval_request_edit_digest(r) THEN edit."id"
          ELSE coalesce(final."id", asked."id")
        END AS "eventId"
      FROM "ApprovalRequest" r
      LEFT JOIN LATERAL (
        SELECT e."id", e."requestDigest" FROM "ApprovalEvent" e WHERE e."requestId" = r."id" AND e."type" = 'REQUESTED' ORDER BY e."position" LIMIT 1
      ) asked ON true
      LEFT JOIN LATERAL (
        SELECT e."id", e."requestDigest" FROM "ApprovalEvent" e
        WHERE e."requestId" = r."id" AND e."type" IN ('EDITED', 'APPROVED') AND e."requestDigest" IS NOT NULL ORDER BY e."position" DESC LIMIT 1
      ) edit ON true
      LEFT JOIN LATERAL (
        SELECT e."id", e."type", e."actorUserId", e."actorAgentId", e."comment", e."at" FROM "ApprovalEvent" e
        WHERE e."requestId" = r."id" AND e."type" IN ('APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED') ORDER BY e."position" DESC LIMIT 1
      ) final ON true
    ) x
    WHERE x."problem" IS NOT NULL
    ORDER BY x."createdAt", x."requestId"
    LIMIT 1`
  return row ?? null
}

async function firstEventAfter(prisma: PrismaClient, sequence: bigint): Promise<bigint | null> {
  const row = await prisma.approvalEvent.findFirst({ where: { sequence: { gt: sequence } }, orderBy: { sequence: 'asc' }, select: { id: true } })
  return row?.id ?? null
}

export interface AuditSequencer {
  /** One numbering pass now (tests, and the feed before it reads). */
  runOnce(): Promise<number>
  /** The sequence of each event, numbering pending events first when one has none yet: one pass and one read for all the events asked in the same tick. */
  sequenceOf(eventId: bigint): Promise<bigint | null>
  stop(): Promise<void>
}

/**
 * Runs the sequencer every `intervalMs` (0: only when asked), so the feed and the checkpoints keep
 * up without a reader. A pass that fails is logged and retried on the next.
 */
export function startAuditSequencer({
  prisma,
  intervalMs,
  log,
  onNumbered,
}: {
  prisma: PrismaClient
  intervalMs: number
  log: Logger
  /** Told of the events each pass numbered (the metrics count decisions, expiries and executions from them). */
  onNumbered?: (events: NumberedEvent[]) => void
}): AuditSequencer {
  // one pass at a time per instance; a full batch is followed by the next (after the event loop's turn)
  const task = startPeriodicTask({
    name: 'audit sequencer',
    log,
    intervalMs,
    runAtStart: false,
    pass: () => sequenceEvents(prisma, SEQUENCER_BATCH, onNumbered),
    more: (numbered) => numbered === SEQUENCER_BATCH,
  })
  // callers share the pass under way
  const runOnce = task.joinOrRun
  let pending: { ids: Set<bigint>; done: Promise<Map<bigint, bigint | null>> } | null = null
  const sequenceOf = (eventId: bigint) => {
    if (!pending) {
      const ids = new Set<bigint>()
      const done = new Promise<Map<bigint, bigint | null>>((resolve, reject) => {
        setImmediate(() => {
          pending = null
          runOnce()
            .then(() => prisma.approvalEvent.findMany({ where: { id: { in: [...ids] } }, select: { id: true, sequence: true } }))
            .then((rows) => resolve(new Map(rows.map((r) => [r.id, r.sequence]))), reject)
        })
      })
      pending = { ids, done }
    }
    pending.ids.add(eventId)
    return pending.done.then((sequences) => sequences.get(eventId) ?? null)
  }
  return {
    runOnce,
    sequenceOf,
    stop: task.stop,
  }
}
