-- Launch progress and per-delivery claims for the sending engine.
ALTER TABLE campaigns
    ADD COLUMN launch_cursor bigint NOT NULL DEFAULT 0,      -- last contact id the launch walked
    ADD COLUMN launch_done   boolean NOT NULL DEFAULT false, -- every delivery of the first step exists
    ADD COLUMN suppressed    integer NOT NULL DEFAULT 0;     -- matched the segment but not sendable

-- The send job (River job id) that claimed a delivery; a retry of the same job
-- may reclaim its own 'sending' rows after a crash, no other job can.
ALTER TABLE deliveries ADD COLUMN claimed_by bigint;

-- Sending rate and timelines read recent sends per campaign.
CREATE INDEX deliveries_campaign_sent_idx ON deliveries (campaign_id, sent_at) WHERE sent_at IS NOT NULL;

---- create above / drop below ----

DROP INDEX deliveries_campaign_sent_idx;
ALTER TABLE deliveries DROP COLUMN claimed_by;
ALTER TABLE campaigns DROP COLUMN launch_cursor, DROP COLUMN launch_done, DROP COLUMN suppressed;
