-- Clicks and opens are written once (issue 22): their request's group
-- commit inserts the row the event keeps into events, marked followed,
-- and tracking's follower derives its state (the deliveries' firsts,
-- unique counts, rollups, campaign_people, contacts' engagement, click
-- history, rule jobs) in batches, taking the followed events above the
-- watermark below and moving it in the same transaction: exactly once, a
-- failed fold rolls both back. Migration 043's event_inbox, with the row
-- written twice (inbox, then events) and deleted once, stays for the rows
-- an older process writes during a rolling deploy; the follower drains
-- both.
--
-- The watermark is exact because the request path takes its ids under a
-- transaction-scoped advisory lock held to its commit, shared (group
-- commits run side by side), and a fold first takes the same lock
-- exclusively for a moment and reads the sequence: every followed id up to
-- that bound belongs to a transaction that has ended (a commit is visible
-- before its locks are released), and the fold reads no higher
-- (tracking/follower.go argues it).
-- Every other writer of events (the tracking writer's unsubscribes,
-- bounces, conversions, complaints, Service.Record) writes its derived
-- state in its own transaction and leaves followed false: the follower
-- skips those rows.
--
-- Both columns are added without rewriting events (a constant default and
-- a null are catalogue-only); url is a personalised click's signed
-- destination (null for static links and opens), which the inbox kept.
ALTER TABLE events ADD COLUMN followed boolean NOT NULL DEFAULT false;
ALTER TABLE events ADD COLUMN url text;

-- One row: the highest followed event id folded. It starts where the
-- sequence is: every event stored before it is already folded.
CREATE TABLE tracking_watermark (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    id  bigint NOT NULL
);
INSERT INTO tracking_watermark (id) SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq;

-- A process older than this migration (a rolling deploy) knows nothing of
-- followed events: its follower's click history and its reclassification
-- of stored clicks (bursts, honeypots) would read and move clicks not yet
-- counted, which the newer fold then counts again. So from here on only a
-- newer fold drains event_inbox and changes the verdict of a followed
-- event above the watermark: it says so in its transaction
-- (set_config('peykar.fold', 'watermark', true), tracking's follower_lock),
-- and these triggers make an older process's take delete nothing (its
-- fold then folds nothing and commits) and its reclassification leave
-- those rows unchanged (not returned, so not moved in its counts). Both
-- fire only there: the inbox is written by older processes alone, and
-- verdict changes are rare.
CREATE FUNCTION tracking_inbox_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('peykar.fold', true) IS DISTINCT FROM 'watermark' THEN
        RETURN NULL; -- an older process's take: the row stays for a newer fold
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER event_inbox_guard BEFORE DELETE ON event_inbox
    FOR EACH ROW EXECUTE FUNCTION tracking_inbox_guard();

CREATE FUNCTION tracking_verdict_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id > (SELECT id FROM tracking_watermark)
            AND current_setting('peykar.fold', true) IS DISTINCT FROM 'watermark' THEN
        RETURN NULL; -- not counted yet: an older process's reclassification leaves it
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER events_verdict_guard BEFORE UPDATE OF machine, reason ON events
    FOR EACH ROW WHEN (OLD.followed AND (NEW.machine IS DISTINCT FROM OLD.machine OR NEW.reason IS DISTINCT FROM OLD.reason))
    EXECUTE FUNCTION tracking_verdict_guard();

---- create above / drop below ----

-- Followed events above the watermark were answered as recorded but have
-- no derived state yet: an older version would never fold them. Going
-- back refuses until the follower has folded them.
DO $$
DECLARE
    waiting bigint;
BEGIN
    SELECT count(*) INTO waiting FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark);
    IF waiting > 0 THEN
        RAISE EXCEPTION 'events holds % clicks and opens not yet folded', waiting
            USING HINT = 'run peykar at this version until peykar_tracking_inbox_oldest_seconds is 0, then migrate down';
    END IF;
END $$;
DROP TRIGGER events_verdict_guard ON events;
DROP FUNCTION tracking_verdict_guard();
DROP TRIGGER event_inbox_guard ON event_inbox;
DROP FUNCTION tracking_inbox_guard();
DROP TABLE tracking_watermark;
ALTER TABLE events DROP COLUMN url;
ALTER TABLE events DROP COLUMN followed;
