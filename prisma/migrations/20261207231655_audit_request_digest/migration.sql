-- The audit log vouches for the request's row too, not only for its events: what was asked
-- (params, context, summary, requester, ...) is hashed into its REQUESTED event, and the params as
-- a reviewer edited them into each EDITED and APPROVED event, as a digest the chain trigger
-- computes from the row when the event is written (so every writer, the single-statement paths
-- included, records it with no extra round trip). verifyAuditLog recomputes the digests from the
-- rows, and checks the decision's columns (status, decidedBy, decisionComment, decidedAt) against
-- the event that made it. Events written before this migration have no digest: for their
-- requests only the decision's columns are checked.

-- AlterTable
ALTER TABLE "ApprovalEvent" ADD COLUMN     "requestDigest" TEXT;

-- What a request was asked with: the columns its REQUESTED event vouches for, which nothing
-- changes afterwards (not ruleId or recordRefId, which a deletion sets to null).
CREATE FUNCTION approval_request_asked_digest(r "ApprovalRequest") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_object(
    'resourceType', r."resourceType"::text,
    'actionType', r."actionType",
    'params', r."params",
    'context', r."context",
    'summary', r."summary",
    'module', r."module",
    'recordId', r."recordId",
    'ruleSnapshot', r."ruleSnapshot",
    'requesterUserId', r."requesterUserId"::text,
    'requesterAgentId', r."requesterAgentId"::text,
    'onBehalfOfId', r."onBehalfOfId"::text,
    'idempotencyKey', r."idempotencyKey"
  )::text, 'UTF8')), 'hex')
$$;

-- A reviewer's edit as the request holds it: whether the params were edited, and to what.
CREATE FUNCTION approval_request_edit_digest(r "ApprovalRequest") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_object('edited', r."edited", 'approvedParams', r."approvedParams")::text, 'UTF8')), 'hex')
$$;

-- An event's content as hashed: as before, and its request digest when it has one (so the
-- hashes of the events written before are unchanged).
CREATE OR REPLACE FUNCTION approval_event_content(e "ApprovalEvent") RETURNS text LANGUAGE sql STABLE AS $$
  SELECT (jsonb_build_object(
    'id', e."id"::text,
    'requestId', e."requestId"::text,
    'position', e."position",
    'type', e."type"::text,
    'actorUserId', e."actorUserId"::text,
    'actorAgentId', e."actorAgentId"::text,
    'comment', e."comment",
    'details', e."details",
    'at', to_char(e."at", 'YYYY-MM-DD"T"HH24:MI:SS.US')
  ) || CASE WHEN e."requestDigest" IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('requestDigest', e."requestDigest") END)::text
$$;

-- The chain trigger (as in the decision_channel migration), which now also writes the request
-- digest of REQUESTED, EDITED and APPROVED events from the request's row. The row is there: it is
-- written first, in the same transaction or (the single-statement paths) the same statement, whose
-- earlier changes a trigger sees. A REQUESTED event without its row is refused rather than left
-- unvouched for.
CREATE OR REPLACE FUNCTION approval_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_position integer;
  head_hash text;
  single_session boolean := coalesce(current_setting('approvals.single_session', true), '') = 'on';
  channel text := nullif(current_setting('approvals.decision_channel', true), '');
BEGIN
  IF NOT single_session THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW."requestId"::text, 7263));
  END IF;
  IF channel IS NOT NULL AND (NEW."actorUserId" IS NOT NULL OR NEW."actorAgentId" IS NOT NULL)
    AND NEW."type" IN ('APPROVED', 'REJECTED', 'VOTED', 'ADVANCED') THEN
    NEW."details" := coalesce(NEW."details", '{}'::jsonb) || jsonb_build_object('channel', channel);
  END IF;
  NEW."requestDigest" := NULL;
  IF NEW."type" = 'REQUESTED' THEN
    SELECT approval_request_asked_digest(r) INTO NEW."requestDigest" FROM "ApprovalRequest" r WHERE r."id" = NEW."requestId";
    IF NEW."requestDigest" IS NULL THEN
      RAISE EXCEPTION 'approval_event_chain: no request % to vouch for', NEW."requestId";
    END IF;
  ELSIF NEW."type" IN ('EDITED', 'APPROVED') THEN
    SELECT approval_request_edit_digest(r) INTO NEW."requestDigest" FROM "ApprovalRequest" r WHERE r."id" = NEW."requestId";
  END IF;
  SELECT "position", "hash" INTO head_position, head_hash FROM "ApprovalEvent" WHERE "requestId" = NEW."requestId" ORDER BY "position" DESC LIMIT 1;
  NEW."position" := coalesce(head_position, 0) + 1;
  NEW."prevHash" := head_hash;
  NEW."sequence" := CASE WHEN single_session THEN NEW."id" END;
  NEW."hash" := approval_event_hash(NEW);
  RETURN NEW;
END $$;
