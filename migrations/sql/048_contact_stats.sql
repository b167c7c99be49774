-- The counters written per message sent and per open or click leave the
-- contacts row for a narrow table of their own (issue 22). On the wide
-- contacts row (jsonb attributes, tags, four indexes, two of them GIN) the
-- send flush's bump of sent was a HOT update only 80–90% of the time:
-- every other one added entries to all four indexes, and each cost
-- 0.4–0.9 ms and ≈ 20–27 MiB of WAL per 100,000 messages. Here a row is
-- ≈ 70 bytes with the primary key as its only index, so an update never
-- changes an indexed column and, with room left on its page (fillfactor
-- 50), stays HOT.
--
-- A contact has a row once something was counted for it; no row reads as
-- zero counts and no last open or click. Conversions, revenue and the last
-- purchase stay on contacts: they are written once per conversion (rare,
-- and in the same transaction as the contact's other purchase changes).
-- Erasure keeps the row (anonymous counts stay right); deleting a contact
-- deletes it (the trigger below).
--
-- No foreign key: its check runs per inserted row, and the first bump of
-- every contact is an insert, so each would probe contacts and take a
-- KEY SHARE lock on the contact's row, which writes a Heap/LOCK WAL record
-- and dirties the wide contacts page: the cost this table exists to avoid
-- (and the one migration 047 takes off the launch insert). The writers
-- take their ids from deliveries and events of existing contacts, and
-- Peykar never deletes a contact (erasure keeps the row). A row whose
-- contact is gone is invisible anyway: every reader starts from contacts.
CREATE TABLE contact_stats (
    contact_id    bigint PRIMARY KEY,
    sent          integer NOT NULL DEFAULT 0,
    opens         integer NOT NULL DEFAULT 0,
    clicks        integer NOT NULL DEFAULT 0,
    last_open_at  timestamptz,
    last_click_at timestamptz
) WITH (fillfactor = 50);

INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
SELECT id, sent, opens, clicks, last_open_at, last_click_at FROM contacts
WHERE sent <> 0 OR opens <> 0 OR clicks <> 0 OR last_open_at IS NOT NULL OR last_click_at IS NOT NULL;

-- What ON DELETE CASCADE did, once per statement (a bulk delete by hand
-- or a test's cleanup). AFTER triggers of one event fire in name order, so
-- this one runs after migration 047's contacts_delete_refs: that trigger
-- takes the contacts' advisory lock and deletes the contacts' deliveries,
-- waiting for any transaction holding one of them (an outcome flush, whose
-- bump_sent is in the same transaction), and this DELETE's snapshot,
-- taken after it, sees the counts those transactions committed.
CREATE FUNCTION contact_stats_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_stats s USING gone g WHERE s.contact_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_delete_stats AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION contact_stats_cascade();

-- TRUNCATE contacts empties contact_stats too (047 does the same for
-- deliveries): a later contact given a reused id must not inherit counts.
CREATE FUNCTION contact_stats_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE contact_stats;
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_truncate_stats AFTER TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contact_stats_truncate();

-- The columns stay on contacts, frozen at the values copied above: this
-- version never reads or writes them, but processes of the previous
-- version run beside it while a deployment rolls (docs/operations.md:
-- migrations only add within a release line) and still bump them
-- (bump_sent, bump_engagement). The trigger below moves each such bump
-- into contact_stats and leaves the contacts row's counters as they were,
-- so nothing an older process counts is lost or counted twice. It fires
-- only for an UPDATE that names these columns, which this version never
-- does. A later release line drops the columns and the trigger.
CREATE FUNCTION contacts_stats_from_older() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_stats AS s (contact_id, sent, opens, clicks, last_open_at, last_click_at)
    VALUES (NEW.id, NEW.sent - OLD.sent, NEW.opens - OLD.opens, NEW.clicks - OLD.clicks,
        NULLIF(NEW.last_open_at, OLD.last_open_at), NULLIF(NEW.last_click_at, OLD.last_click_at))
    ON CONFLICT (contact_id) DO UPDATE SET
        sent = s.sent + EXCLUDED.sent, opens = s.opens + EXCLUDED.opens, clicks = s.clicks + EXCLUDED.clicks,
        last_open_at = GREATEST(s.last_open_at, EXCLUDED.last_open_at),
        last_click_at = GREATEST(s.last_click_at, EXCLUDED.last_click_at);
    NEW.sent := OLD.sent;
    NEW.opens := OLD.opens;
    NEW.clicks := OLD.clicks;
    NEW.last_open_at := OLD.last_open_at;
    NEW.last_click_at := OLD.last_click_at;
    RETURN NEW;
END $$;

CREATE TRIGGER contacts_stats_from_older
    BEFORE UPDATE OF sent, opens, clicks, last_open_at, last_click_at ON contacts
    FOR EACH ROW
    WHEN (NEW.sent IS DISTINCT FROM OLD.sent OR NEW.opens IS DISTINCT FROM OLD.opens
        OR NEW.clicks IS DISTINCT FROM OLD.clicks OR NEW.last_open_at IS DISTINCT FROM OLD.last_open_at
        OR NEW.last_click_at IS DISTINCT FROM OLD.last_click_at)
    EXECUTE FUNCTION contacts_stats_from_older();

---- create above / drop below ----

DROP TRIGGER contacts_stats_from_older ON contacts;
DROP FUNCTION contacts_stats_from_older();

UPDATE contacts c SET sent = coalesce(s.sent, 0), opens = coalesce(s.opens, 0), clicks = coalesce(s.clicks, 0),
    last_open_at = s.last_open_at, last_click_at = s.last_click_at
FROM contacts c2 LEFT JOIN contact_stats s ON s.contact_id = c2.id WHERE c2.id = c.id;

DROP TRIGGER contacts_truncate_stats ON contacts;
DROP FUNCTION contact_stats_truncate();
DROP TRIGGER contacts_delete_stats ON contacts;
DROP FUNCTION contact_stats_cascade();
DROP TABLE contact_stats;
