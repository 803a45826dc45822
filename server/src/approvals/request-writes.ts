// The two hot writes, each as one SQL statement: a new request with its reviewers and events, and
// a decision with its event and execution. A statement of data-modifying CTEs is atomic on its own,
// so neither needs a transaction (BEGIN, each statement, COMMIT: a round trip each). Each is
// guarded so that it writes nothing when what it was prepared from no longer holds; the caller
// then takes the transactional path, which reads again and says what went wrong.
import { v7 as uuidv7 } from 'uuid'
import type { Viewer } from '../auth/viewer.js'
import { Prisma, type PrismaClient } from '../db.js'
import type { ApprovalRequest } from '../generated/prisma/client.js'
import { paramsDigest } from './executions.js'
import type { Admitted } from './reviewers.js'
import type { DecisionChannelName } from './stages.js'

/** The request to write, every column as stored. */
export type NewRequest = Omit<
  ApprovalRequest,
  'id' | 'status' | 'approvedParams' | 'edited' | 'decidedByUserId' | 'decidedByAgentId' | 'decisionComment' | 'decidedAt' | 'createdAt' | 'updatedAt'
>

export interface NewEvent {
  type: 'REQUESTED' | 'ESCALATED' | 'DELEGATED'
  actorUserId?: string | null
  actorAgentId?: string | null
  comment: string | null
  details?: unknown
}

export type InsertOutcome =
  | { kind: 'inserted'; request: ApprovalRequest }
  /** The rule set changed since the rules were read: nothing written. */
  | { kind: 'stale' }
  /** The requester's idempotency key is taken (a retry, or a concurrent twin): nothing written. */
  | { kind: 'duplicate' }

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value))

/**
 * Writes a request, its reviewers and its events in one statement, if the rule set is still at
 * `setVersion` (held FOR SHARE meanwhile, as a rule change takes it FOR UPDATE) and the
 * idempotency key is free. Answers with the request as written, built here rather than read back.
 */
export async function insertRequest(
  prisma: PrismaClient,
  data: NewRequest,
  /** Only admitted ones (admitReviewers). */
  reviewers: Admitted,
  events: NewEvent[],
  setVersion: number,
  now: Date,
): Promise<InsertOutcome> {
  const id = uuidv7()
  const at = now.toISOString()
  const reviewerRows = reviewers.map((r) => ({ id: uuidv7(), userId: r.userId ?? null, agentId: r.agentId ?? null }))
  const [row] = await prisma.$queryRaw<{ current: boolean; inserted: boolean }[]>`
    WITH rs AS (
      SELECT "version" FROM "RuleSet" WHERE "id" = 1 AND "version" = ${setVersion} FOR SHARE
    ), ins AS (
      INSERT INTO "ApprovalRequest" (
        "id", "status", "resourceType", "actionType", "params", "module", "recordId", "recordRefId", "summary", "context",
        "conditionError", "ruleId", "ruleSnapshot", "requesterUserId", "requesterAgentId", "onBehalfOfId", "resolverType",
        "escalated", "expiresAt", "escalateAt", "autoApproveAt", "idempotencyKey", "inputHash", "requesterKey", "createdAt", "updatedAt",
        "stage", "stageCount", "requiredApprovals"
      )
      SELECT ${id}::uuid, 'PENDING'::"ApprovalStatus", ${data.resourceType}::"ResourceType", ${data.actionType}, ${json(data.params)}::jsonb,
        ${data.module}, ${data.recordId}, ${data.recordRefId}::uuid, ${data.summary}, ${json(data.context)}::jsonb,
        ${data.conditionError}, ${data.ruleId}::uuid, ${json(data.ruleSnapshot)}::jsonb, ${data.requesterUserId}::uuid,
        ${data.requesterAgentId}::uuid, ${data.onBehalfOfId}::uuid, ${data.resolverType}::"ResolverType", ${data.escalated},
        ${data.expiresAt?.toISOString() ?? null}::timestamp, ${data.escalateAt?.toISOString() ?? null}::timestamp,
        ${data.autoApproveAt?.toISOString() ?? null}::timestamp, ${data.idempotencyKey}, ${data.inputHash}, ${data.requesterKey}::uuid,
        ${at}::timestamp, ${at}::timestamp, ${data.stage}, ${data.stageCount}, ${data.requiredApprovals}
      FROM rs
      ON CONFLICT ("requesterKey", "idempotencyKey") DO NOTHING
      RETURNING "id"
    ), reviewers AS (
      INSERT INTO "ApprovalReviewer" ("id", "requestId", "userId", "agentId", "active", "assignedAt")
      SELECT r."id", ins."id", r."userId", r."agentId", true, ${at}::timestamp
      FROM ins, jsonb_to_recordset(${JSON.stringify(reviewerRows)}::jsonb) AS r("id" uuid, "userId" uuid, "agentId" uuid)
    ), events AS (
      INSERT INTO "ApprovalEvent" ("requestId", "type", "actorUserId", "actorAgentId", "comment", "details", "at")
      SELECT ins."id", (e.value->>'type')::"ApprovalEventType", (e.value->>'actorUserId')::uuid, (e.value->>'actorAgentId')::uuid,
        e.value->>'comment', e.value->'details', ${at}::timestamp
      FROM ins, jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS e(value, n)
      ORDER BY e.n
    )
    SELECT EXISTS (SELECT 1 FROM rs) AS "current", EXISTS (SELECT 1 FROM ins) AS "inserted"`
  if (!row!.current) return { kind: 'stale' }
  if (!row!.inserted) return { kind: 'duplicate' }
  const request: ApprovalRequest = {
    ...data,
    id,
    status: 'PENDING',
    approvedParams: null,
    edited: false,
    decidedByUserId: null,
    decidedByAgentId: null,
    decisionComment: null,
    decidedAt: null,
    createdAt: now,
    updatedAt: now,
  }
  return { kind: 'inserted', request }
}

export interface Decided {
  request: ApprovalRequest
  /** Its reviewers, past and present, as the notifier names them (at most `principalsLimit`). */
  principals: string[]
}

/**
 * Decides a pending agent action in one statement: the conditional update (still pending, not
 * expired, the viewer still an active reviewer), its event, and, when approved, the reviewer's
 * vote and the execution, READY. An approval is decided here only in a last stage that needs
 * one approval; others are votes (stages.ts). `request` is the request as read just before: its
 * stage is checked again, so what it was approved with (params, or an earlier stage's edit,
 * which only a stage's end can make) is what the execution runs. Null when the guard did not
 * hold: nothing was written.
 */
export async function decideRequest(
  prisma: PrismaClient,
  request: ApprovalRequest,
  viewer: Viewer,
  status: 'APPROVED' | 'REJECTED',
  comment: string | null,
  now: Date,
  principalsLimit: number,
  /** Where the decision is made, for its event's details. */
  channel?: DecisionChannelName,
): Promise<Decided | null> {
  const at = now.toISOString()
  const userId = viewer.kind === 'user' ? viewer.id : null
  const agentId = viewer.kind === 'agent' ? viewer.id : null
  const execution =
    status === 'APPROVED'
      ? Prisma.sql`, execution AS (
          INSERT INTO "Execution" ("requestId", "requesterKey", "actionType", "status", "params", "paramsDigest", "attempts", "readyAt", "createdAt", "updatedAt")
          SELECT "id", "requesterKey", "actionType", 'READY'::"ExecutionStatus", CASE WHEN "edited" THEN "approvedParams" ELSE "params" END,
            ${paramsDigest(request.edited ? request.approvedParams : request.params)}, 0, ${at}::timestamp, ${at}::timestamp, ${at}::timestamp
          FROM decided
        ), vote AS (
          INSERT INTO "ApprovalVote" ("id", "requestId", "stage", "userId", "agentId", "comment", "at")
          SELECT ${uuidv7()}::uuid, "id", "stage", ${userId}::uuid, ${agentId}::uuid, ${comment}, ${at}::timestamp FROM decided
        )`
      : Prisma.empty
  const lastStage = status === 'APPROVED' ? Prisma.sql`AND "stage" = "stageCount" AND "requiredApprovals" = 1` : Prisma.empty
  const rows = await prisma.$queryRaw<(ApprovalRequest & { principals: string[] | null })[]>`
    WITH decided AS (
      UPDATE "ApprovalRequest" SET "status" = ${status}::"ApprovalStatus", "decidedAt" = ${at}::timestamp, "escalateAt" = NULL,
        "autoApproveAt" = NULL, "decisionComment" = ${comment}, "decidedByUserId" = ${userId}::uuid, "decidedByAgentId" = ${agentId}::uuid,
        "updatedAt" = ${at}::timestamp
      WHERE "id" = ${request.id}::uuid AND "status" = 'PENDING' AND "resourceType" = 'AGENT_ACTION'
        AND ("expiresAt" IS NULL OR "expiresAt" > ${at}::timestamp) AND "stage" = ${request.stage} ${lastStage}
        AND NOT EXISTS (SELECT 1 FROM "ApprovalVote" WHERE "requestId" = ${request.id}::uuid AND ("userId" = ${userId}::uuid OR "agentId" = ${agentId}::uuid))
        AND EXISTS (
          SELECT 1 FROM "ApprovalReviewer"
          WHERE "requestId" = ${request.id}::uuid AND "active" AND ("userId" = ${userId}::uuid OR "agentId" = ${agentId}::uuid)
        )
      RETURNING *
    ), event AS (
      INSERT INTO "ApprovalEvent" ("requestId", "type", "actorUserId", "actorAgentId", "comment", "details", "at")
      SELECT "id", ${status}::"ApprovalEventType", ${userId}::uuid, ${agentId}::uuid, ${comment},
        CASE WHEN ${channel ?? null}::text IS NOT NULL THEN jsonb_build_object('channel', ${channel ?? null}::text) END, ${at}::timestamp
      FROM decided
    )${execution}
    SELECT decided.*, (
      SELECT json_agg(p.id) FROM (
        SELECT coalesce("userId", "agentId") AS id FROM "ApprovalReviewer" WHERE "requestId" = ${request.id}::uuid LIMIT ${principalsLimit}
      ) p
    ) AS "principals"
    FROM decided`
  const [row] = rows
  if (!row) return null
  const { principals, ...decided } = row
  return { request: decided, principals: principals ?? [] }
}
