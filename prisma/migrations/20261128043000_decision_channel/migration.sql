-- Where a decision was made (details.channel: INBOX, API, EMAIL, SLACK) is part of its events'
-- content, so it must be there before they are hashed: the deciding transaction names it in a
-- setting local to that transaction (approvals.decision_channel, see lockRequest in
-- approvals/stages.ts), and the chain trigger writes it into the decisions an actor writes in it
-- (approved, rejected, voted, advanced; an EDITED event's details are its JSON Patch, and the
-- approval that follows it names the channel). The single-statement decision (request-writes.ts) writes it into its event itself.
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
  SELECT "position", "hash" INTO head_position, head_hash FROM "ApprovalEvent" WHERE "requestId" = NEW."requestId" ORDER BY "position" DESC LIMIT 1;
  NEW."position" := coalesce(head_position, 0) + 1;
  NEW."prevHash" := head_hash;
  NEW."sequence" := CASE WHEN single_session THEN NEW."id" END;
  NEW."hash" := approval_event_hash(NEW);
  RETURN NEW;
END $$;
