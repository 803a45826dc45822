-- CreateEnum
CREATE TYPE "WebhookEventType" AS ENUM ('APPROVAL_REQUESTED', 'APPROVAL_ESCALATED', 'APPROVAL_DECIDED', 'APPROVAL_EXPIRED', 'APPROVAL_CANCELLED', 'EXECUTION_FINISHED', 'WEBHOOK_TEST');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "WebhookEndpoint" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "events" "WebhookEventType"[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "secret" TEXT NOT NULL,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WebhookEndpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "eventId" BIGINT,
    "eventType" "WebhookEventType" NOT NULL,
    "payload" JSONB NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "leaseExpiresAt" TIMESTAMP(3),
    "lastAttemptAt" TIMESTAMP(3),
    "lastStatusCode" INTEGER,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookAttempt" (
    "id" BIGSERIAL NOT NULL,
    "deliveryId" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "durationMs" INTEGER NOT NULL,

    CONSTRAINT "WebhookAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WebhookDelivery_endpointId_status_nextAttemptAt_idx" ON "WebhookDelivery"("endpointId", "status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WebhookDelivery_endpointId_createdAt_idx" ON "WebhookDelivery"("endpointId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_eventId_endpointId_key" ON "WebhookDelivery"("eventId", "endpointId");

-- CreateIndex
CREATE INDEX "WebhookAttempt_deliveryId_id_idx" ON "WebhookAttempt"("deliveryId", "id");

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookAttempt" ADD CONSTRAINT "WebhookAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "WebhookDelivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The outbox. Every change a webhook reports already writes an ApprovalEvent in its own
-- transaction or statement (the hot paths of approvals/request-writes.ts are single statements
-- of data-modifying CTEs); this trigger adds one delivery per enabled endpoint that wants the
-- event's type, in that same transaction, with no round trip of its own. Row-level AFTER
-- triggers fire once the whole statement is done, so the request it reads is the request as the
-- statement left it (a CTE's own snapshot would not see its sibling's update).

-- A time-ordered UUID (version 7), as Prisma's uuid(7) makes for rows it writes itself.
CREATE FUNCTION "webhook_uuid7"() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- The API's global ID (Relay): base64 of "Type:id", as @pothos/plugin-relay encodes it.
CREATE FUNCTION "webhook_global_id"(typename text, id uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN id IS NULL THEN NULL ELSE encode(convert_to(typename || ':' || id::text, 'UTF8'), 'base64') END
$$;

-- Timestamps are stored as UTC without a zone; the payload gives them as ISO 8601 in UTC.
CREATE FUNCTION "webhook_time"(at timestamp) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

CREATE FUNCTION "webhook_enqueue_deliveries"() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  kind "WebhookEventType";
  body jsonb;
BEGIN
  kind := CASE NEW."type"
    WHEN 'REQUESTED' THEN 'APPROVAL_REQUESTED'
    WHEN 'ESCALATED' THEN 'APPROVAL_ESCALATED'
    WHEN 'APPROVED' THEN 'APPROVAL_DECIDED'
    WHEN 'REJECTED' THEN 'APPROVAL_DECIDED'
    WHEN 'EXPIRED' THEN 'APPROVAL_EXPIRED'
    WHEN 'CANCELLED' THEN 'APPROVAL_CANCELLED'
    WHEN 'EXECUTED' THEN 'EXECUTION_FINISHED'
    WHEN 'EXECUTION_FAILED' THEN 'EXECUTION_FINISHED'
  END;
  IF kind IS NULL OR NOT EXISTS (SELECT 1 FROM "WebhookEndpoint" WHERE "enabled" AND kind = ANY("events")) THEN
    RETURN NULL;
  END IF;

  SELECT jsonb_build_object(
    'type', regexp_replace(lower(kind::text), '_', '.'),
    'timestamp', "webhook_time"(NEW."at"),
    'data', jsonb_build_object(
      'request', jsonb_build_object(
        'id', "webhook_global_id"('ApprovalRequest', r."id"),
        'status', r."status",
        'resourceType', r."resourceType",
        'actionType', r."actionType",
        'module', r."module",
        'recordId', COALESCE(r."recordId", CASE WHEN r."resourceType" = 'RECORD_MUTATION' THEN "webhook_global_id"('Record', r."recordRefId") END),
        'summary', r."summary",
        'params', r."params",
        -- as the API's ApprovalRequest.approvedParams: what was approved, or an earlier stage's edit under review
        'approvedParams', CASE WHEN r."status" = 'APPROVED' OR (r."status" = 'PENDING' AND r."edited")
          THEN CASE WHEN r."edited" THEN r."approvedParams" ELSE r."params" END END,
        'edited', r."edited",
        'stage', r."stage",
        'stageCount', r."stageCount",
        'rule', jsonb_build_object(
          'id', "webhook_global_id"('ApprovalRule', (r."ruleSnapshot"->>'id')::uuid),
          'name', r."ruleSnapshot"->>'name'),
        'requester', CASE WHEN ru."id" IS NOT NULL
          THEN jsonb_build_object('id', "webhook_global_id"('User', ru."id"), 'name', ru."name", 'kind', 'USER')
          ELSE jsonb_build_object('id', "webhook_global_id"('Agent', ra."id"), 'name', ra."name", 'kind', 'AGENT') END,
        'onBehalfOf', CASE WHEN ob."id" IS NOT NULL THEN jsonb_build_object('id', "webhook_global_id"('User', ob."id"), 'name', ob."name") END,
        'decidedBy', CASE
          WHEN du."id" IS NOT NULL THEN jsonb_build_object('id', "webhook_global_id"('User', du."id"), 'name', du."name")
          WHEN da."id" IS NOT NULL THEN jsonb_build_object('id', "webhook_global_id"('Agent', da."id"), 'name', da."name") END,
        'decisionComment', r."decisionComment",
        'decidedAt', "webhook_time"(r."decidedAt"),
        'expiresAt', "webhook_time"(r."expiresAt"),
        'createdAt', "webhook_time"(r."createdAt")
      ),
      'event', jsonb_build_object(
        'type', NEW."type",
        'comment', NEW."comment",
        'at', "webhook_time"(NEW."at"),
        'actor', CASE
          WHEN au."id" IS NOT NULL THEN jsonb_build_object('id', "webhook_global_id"('User', au."id"), 'name', au."name")
          WHEN aa."id" IS NOT NULL THEN jsonb_build_object('id', "webhook_global_id"('Agent', aa."id"), 'name', aa."name") END
      )
    ) || CASE WHEN kind = 'EXECUTION_FINISHED' THEN jsonb_build_object('execution', (
      SELECT jsonb_build_object('status', x."status", 'attempts', x."attempts", 'result', x."result", 'error', x."error", 'finishedAt', "webhook_time"(x."finishedAt"))
      FROM "Execution" x WHERE x."requestId" = r."id"
    )) ELSE '{}'::jsonb END
  )
  INTO body
  FROM "ApprovalRequest" r
  LEFT JOIN "User" ru ON ru."id" = r."requesterUserId"
  LEFT JOIN "Agent" ra ON ra."id" = r."requesterAgentId"
  LEFT JOIN "User" ob ON ob."id" = r."onBehalfOfId"
  LEFT JOIN "User" du ON du."id" = r."decidedByUserId"
  LEFT JOIN "Agent" da ON da."id" = r."decidedByAgentId"
  LEFT JOIN "User" au ON au."id" = NEW."actorUserId"
  LEFT JOIN "Agent" aa ON aa."id" = NEW."actorAgentId"
  WHERE r."id" = NEW."requestId";

  INSERT INTO "WebhookDelivery" ("id", "endpointId", "eventId", "eventType", "payload", "status", "attempts", "nextAttemptAt", "createdAt", "updatedAt")
  SELECT "webhook_uuid7"(), e."id", NEW."id", kind, body, 'PENDING', 0, NEW."at", NEW."at", NEW."at"
  FROM "WebhookEndpoint" e
  WHERE e."enabled" AND kind = ANY(e."events")
  ON CONFLICT ("eventId", "endpointId") DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER "ApprovalEvent_webhook_deliveries"
  AFTER INSERT ON "ApprovalEvent"
  FOR EACH ROW
  WHEN (NEW."type" IN ('REQUESTED', 'ESCALATED', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'EXECUTED', 'EXECUTION_FAILED'))
  EXECUTE FUNCTION "webhook_enqueue_deliveries"();
