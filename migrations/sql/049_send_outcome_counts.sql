-- A send flush's step counters leave its transaction too (issue 22): the
-- flush used to add its outcomes' counts (sent, send_bounced, failed,
-- skipped per campaign, step and minute) to rollups, rollup_totals and
-- rollup_hours itself, and every flush of every sender upserted the same
-- campaign's counter rows, so the flushes queued on those rows' locks
-- (≈ 41 µs per message of the rollup statement at 100,000 messages, the
-- most of any statement). Now the flush records its counts, summed per
-- campaign, step and metric, in its send_outcome_log row, and the send
-- fold adds the counts of all the rows it takes in one statement, in the
-- transaction that deletes them: each outcome is counted exactly once,
-- and the counters equal the deliveries whenever the log is empty.
--
-- Parallel arrays, entry i is count_n[i] outcomes of metric
-- count_metrics[i] of step count_steps[i] of campaign count_campaigns[i],
-- at the row's recorded_at. A row may name counts and no recipients (a
-- flush of failures or skips only). Rows written before this migration
-- have none: their flush counted them.
--
ALTER TABLE send_outcome_log
    ADD COLUMN count_campaigns bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN count_steps     text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN count_metrics   text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN count_n         bigint[] NOT NULL DEFAULT '{}';

-- Old and new processes run side by side while a deployment rolls
-- (docs/operations.md). A peykar of the previous version still flushes its
-- counters itself and logs rows without counts, which any fold may take;
-- but its fold knows nothing of the counts, and would delete a row of this
-- version without adding them. So a row that holds counts may only be
-- deleted by a transaction that said it adds them: the send fold of this
-- version sets peykar.send_fold to 'counts' (transaction-local) in the
-- statement that takes the rows. An old fold that meets such a row fails
-- and rolls back whole (its rows stay for a newer fold, nothing is lost)
-- and tries again later; a newer process folds them within its next fold.
CREATE FUNCTION send_outcome_log_keep_counts() RETURNS trigger
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

---- create above / drop below ----

-- Counts still waiting here are outcomes no rollup counts yet: going back
-- refuses until the send fold has taken them (a peykar of this version
-- running empties the log within seconds).
DO $$
DECLARE
    waiting bigint;
BEGIN
    SELECT count(*) INTO waiting FROM send_outcome_log WHERE cardinality(count_n) > 0;
    IF waiting > 0 THEN
        RAISE EXCEPTION 'send_outcome_log holds % flushes whose counts are not yet folded', waiting
            USING HINT = 'run peykar at this version until the log is empty, then migrate down';
    END IF;
END $$;
DROP TRIGGER send_outcome_log_keep_counts ON send_outcome_log;
DROP FUNCTION send_outcome_log_keep_counts();
ALTER TABLE send_outcome_log
    DROP COLUMN count_n,
    DROP COLUMN count_metrics,
    DROP COLUMN count_steps,
    DROP COLUMN count_campaigns;
