-- A database with one session (PGlite: the server's one connection, which runs one transaction at
-- a time) commits transactions in the order they write their events, so an event's id is already
-- a commit-safe place in the feed: the chain trigger gives it as the event's sequence at once, and
-- the audit sequencer then only anchors the chains (no second write of every event). The server
-- says so by setting approvals.single_session to 'on' in that session (db.ts); PostgreSQL's
-- sessions never do, and their events are numbered after commit as before. There, too, the
-- advisory lock is left out: with one session no other writer can fork a chain.
CREATE OR REPLACE FUNCTION approval_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_position integer;
  head_hash text;
  single_session boolean := coalesce(current_setting('approvals.single_session', true), '') = 'on';
BEGIN
  IF NOT single_session THEN
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW."requestId"::text, 7263));
  END IF;
  SELECT "position", "hash" INTO head_position, head_hash FROM "ApprovalEvent" WHERE "requestId" = NEW."requestId" ORDER BY "position" DESC LIMIT 1;
  NEW."position" := coalesce(head_position, 0) + 1;
  NEW."prevHash" := head_hash;
  NEW."sequence" := CASE WHEN single_session THEN NEW."id" END;
  NEW."hash" := approval_event_hash(NEW);
  RETURN NEW;
END $$;
