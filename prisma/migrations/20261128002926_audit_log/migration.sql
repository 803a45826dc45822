-- The audit log: each request's events form a hash chain (set on insert by a trigger, so that
-- every writer, the single-statement hot paths included, chains its events with no extra round
-- trip), and a sequencer numbers committed events for the service-wide feed and anchors the
-- chains' heads in checkpoints.

-- AlterTable
ALTER TABLE "ApprovalEvent" ADD COLUMN     "hash" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "position" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "prevHash" TEXT,
ADD COLUMN     "sequence" BIGINT;

-- CreateTable
CREATE TABLE "AuditSequencer" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "lastSequence" BIGINT NOT NULL DEFAULT 0,
    "lastHash" TEXT,

    CONSTRAINT "AuditSequencer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "id" BIGSERIAL NOT NULL,
    "upToSequence" BIGINT NOT NULL,
    "heads" JSONB NOT NULL,
    "prevHash" TEXT,
    "hash" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("id")
);

-- An event's content as hashed: every column but the chain's own, in a fixed text form
-- (jsonb's text form orders keys; the time is written out to the microsecond).
CREATE FUNCTION approval_event_content(e "ApprovalEvent") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', e."id"::text,
    'requestId', e."requestId"::text,
    'position', e."position",
    'type', e."type"::text,
    'actorUserId', e."actorUserId"::text,
    'actorAgentId', e."actorAgentId"::text,
    'comment', e."comment",
    'details', e."details",
    'at', to_char(e."at", 'YYYY-MM-DD"T"HH24:MI:SS.US')
  )::text
$$;

-- SHA-256 (lowercase hex) over the previous event's hash and this event's content.
CREATE FUNCTION approval_event_hash(e "ApprovalEvent") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(coalesce(e."prevHash", '') || '|' || approval_event_content(e), 'UTF8')), 'hex')
$$;

-- SHA-256 over the previous checkpoint's hash, the last sequence number it covers and the heads it anchors.
CREATE FUNCTION approval_checkpoint_hash(prev text, up_to bigint, heads jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(coalesce(prev, '') || '|' || up_to::text || '|' || heads::text, 'UTF8')), 'hex')
$$;

-- The events written before the audit log: chained in the order they were written.
DO $$
DECLARE
  r record;
  prev text;
  current_request uuid;
  pos integer;
BEGIN
  FOR r IN SELECT "id", "requestId" FROM "ApprovalEvent" ORDER BY "requestId", "id" LOOP
    IF current_request IS DISTINCT FROM r."requestId" THEN
      current_request := r."requestId";
      prev := NULL;
      pos := 0;
    END IF;
    pos := pos + 1;
    UPDATE "ApprovalEvent" SET "position" = pos, "prevHash" = prev WHERE "id" = r."id";
    UPDATE "ApprovalEvent" e SET "hash" = approval_event_hash(e) WHERE e."id" = r."id" RETURNING e."hash" INTO prev;
  END LOOP;
END $$;

-- Each new event joins its request's chain. One writer at a time per chain: a request's writers
-- already hold its row, and the advisory lock makes it so for any writer, so the chain cannot fork.
CREATE FUNCTION approval_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_position integer;
  head_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(NEW."requestId"::text, 7263));
  SELECT "position", "hash" INTO head_position, head_hash FROM "ApprovalEvent" WHERE "requestId" = NEW."requestId" ORDER BY "position" DESC LIMIT 1;
  NEW."position" := coalesce(head_position, 0) + 1;
  NEW."prevHash" := head_hash;
  NEW."sequence" := NULL;
  NEW."hash" := approval_event_hash(NEW);
  RETURN NEW;
END $$;

CREATE TRIGGER approval_event_chain BEFORE INSERT ON "ApprovalEvent" FOR EACH ROW EXECUTE FUNCTION approval_event_chain();

INSERT INTO "AuditSequencer" ("id") VALUES (1);

-- CreateIndex
CREATE UNIQUE INDEX "AuditCheckpoint_upToSequence_key" ON "AuditCheckpoint"("upToSequence");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalEvent_sequence_key" ON "ApprovalEvent"("sequence");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalEvent_requestId_position_key" ON "ApprovalEvent"("requestId", "position");
