-- The contacts' sent counts leave the send flush for the send fold too
-- (issue 22): each flush added one to contact_stats.sent per message sent
-- in a statement of its own (≈ 25 rows per call, 3,949 calls per 100,000
-- messages, its per-statement cost paid every flush), in the transaction
-- that records the outcomes. Now the flush names, in its send_outcome_log
-- row, the contact of every delivery it made sent (once per delivery, so a
-- contact sent two messages of one flush is named twice), and the send
-- fold adds the contacts of all the rows it takes in one statement, in the
-- transaction that deletes them: each message is counted exactly once, and
-- contact_stats.sent equals the contacts' sent deliveries whenever the log
-- is empty. Rows logged before this migration name none: their flush
-- counted them itself.
--
-- Like the counts of migration 049, a row that names sent contacts may
-- only be deleted by a transaction that said it adds them: the send fold
-- of this version sets peykar.send_fold to 'stats' (which also adds the
-- counts) in the statement that takes the rows. An older fold ('counts')
-- that meets such a row fails and rolls back whole; a newer process folds
-- the row within its next fold. No reference is checked: the contacts come
-- from deliveries the flush changed, and Peykar never deletes a contact
-- (migration 048; a contact deleted by hand meanwhile leaves a contact_stats
-- row no reader sees, as every reader starts from contacts).
ALTER TABLE send_outcome_log ADD COLUMN sent_contact_ids bigint[] NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION send_outcome_log_keep_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fold text := current_setting('peykar.send_fold', true);
BEGIN
    IF cardinality(OLD.count_n) > 0 AND fold IS DISTINCT FROM 'counts' AND fold IS DISTINCT FROM 'stats' THEN
        RAISE EXCEPTION 'send_outcome_log row % holds step counts that this transaction would not add', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'only a peykar at migration 049 or later folds these rows; an older process leaves them to it';
    END IF;
    IF cardinality(OLD.sent_contact_ids) > 0 AND fold IS DISTINCT FROM 'stats' THEN
        RAISE EXCEPTION 'send_outcome_log row % names sent contacts that this transaction would not count', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'only a peykar at migration 052 or later folds these rows; an older process leaves them to it';
    END IF;
    RETURN OLD;
END $$;

DROP TRIGGER send_outcome_log_keep_counts ON send_outcome_log;
CREATE TRIGGER send_outcome_log_keep_counts BEFORE DELETE ON send_outcome_log
    FOR EACH ROW WHEN (cardinality(OLD.count_n) > 0 OR cardinality(OLD.sent_contact_ids) > 0)
    EXECUTE FUNCTION send_outcome_log_keep_counts();

---- create above / drop below ----

-- Sent contacts still waiting here are messages no contact_stats row counts
-- yet: going back refuses until the send fold has taken them (a peykar of
-- this version running empties the log within seconds).
DO $$
DECLARE
    waiting bigint;
BEGIN
    SELECT count(*) INTO waiting FROM send_outcome_log WHERE cardinality(sent_contact_ids) > 0;
    IF waiting > 0 THEN
        RAISE EXCEPTION 'send_outcome_log holds % flushes whose contacts'' sent counts are not yet folded', waiting
            USING HINT = 'run peykar at this version until the log is empty, then migrate down';
    END IF;
END $$;
DROP TRIGGER send_outcome_log_keep_counts ON send_outcome_log;
CREATE OR REPLACE FUNCTION send_outcome_log_keep_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('peykar.send_fold', true) IS DISTINCT FROM 'counts' THEN
        RAISE EXCEPTION 'send_outcome_log row % holds step counts that this transaction would not add', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'only a peykar at migration 049 or later folds these rows; an older process leaves them to it';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER send_outcome_log_keep_counts BEFORE DELETE ON send_outcome_log
    FOR EACH ROW WHEN (cardinality(OLD.count_n) > 0)
    EXECUTE FUNCTION send_outcome_log_keep_counts();
ALTER TABLE send_outcome_log DROP COLUMN sent_contact_ids;
