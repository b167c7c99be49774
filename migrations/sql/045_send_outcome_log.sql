-- A send flush's campaign people leave its transaction as one row here
-- (issue 22): the flush records the deliveries' outcomes, the contacts'
-- sent counts, the suppressions of hard bounces, follow-up jobs and the
-- step counters, and adds one row naming the recipients it sent to or was
-- refused by for good. The engine's send fold takes the waiting rows in
-- large batches, creates or refreshes their campaign_people rows and the
-- people counters, and deletes the rows, all in one transaction: each
-- outcome is folded exactly once, and the people counters equal the
-- deliveries whenever the log is empty.
--
-- One row per flush (≈ 20–30 outcomes), not one per message: the arrays
-- are parallel, entry i is recipient (campaign_ids[i], contact_ids[i]),
-- whose delivery the flush made sent or bounced. Only the deliveries the
-- flush's own statement changed are named, so a message recorded twice (a
-- re-send after a crash) counts once. No foreign keys: a key check would
-- lock rows from the flush for nothing (the fold builds people from the
-- deliveries it finds).
CREATE TABLE send_outcome_log (
    id           bigserial PRIMARY KEY,
    campaign_ids bigint[] NOT NULL,
    contact_ids  bigint[] NOT NULL,
    -- the flush's time: the minute the people counters' changes count in
    recorded_at  timestamptz NOT NULL
);

---- create above / drop below ----

-- Outcomes still waiting here are recorded deliveries whose contacts and
-- people are not counted yet: dropping them would lose those counts.
-- Going back refuses until the send fold has taken them (a peykar of this
-- version running empties the log within seconds).
DO $$
DECLARE
    waiting bigint;
BEGIN
    SELECT count(*) INTO waiting FROM send_outcome_log;
    IF waiting > 0 THEN
        RAISE EXCEPTION 'send_outcome_log holds % flushes of send outcomes not yet folded', waiting
            USING HINT = 'run peykar at this version until the log is empty, then migrate down';
    END IF;
END $$;
DROP TABLE send_outcome_log;
