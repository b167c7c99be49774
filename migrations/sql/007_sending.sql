-- Launch progress and per-delivery claims for the sending engine.
ALTER TABLE campaigns
    ADD COLUMN launch_cursor bigint NOT NULL DEFAULT 0,      -- last contact id the launch walked
    ADD COLUMN launch_done   boolean NOT NULL DEFAULT false, -- every delivery of the first step exists
    ADD COLUMN suppressed    integer NOT NULL DEFAULT 0;     -- matched the segment but not sendable

-- The send job (River job id) that claimed a delivery; a retry of the same job
-- may reclaim its own 'sending' rows after a crash, no other job can.
ALTER TABLE deliveries ADD COLUMN claimed_by bigint;

-- No index mentions a delivery's status, times or claim, so the two updates
-- every send makes (claim, outcome) are HOT: no index maintenance. Progress
-- and "is the campaign done" read the rollups instead of counting by status.
DROP INDEX deliveries_campaign_status_idx;

---- create above / drop below ----

CREATE INDEX deliveries_campaign_status_idx ON deliveries (campaign_id, status);
ALTER TABLE deliveries DROP COLUMN claimed_by;
ALTER TABLE campaigns DROP COLUMN launch_cursor, DROP COLUMN launch_done, DROP COLUMN suppressed;
