-- A contact can receive the same step of a campaign more than once when it
-- goes through the campaign again: a triggered campaign's re-entry (issue
-- 19, the entry's id) or a transactional message (the message's id). The
-- per-recipient record stays unique per round: (campaign, step, contact,
-- round). Blast campaigns keep round 0, so a re-run launch page still
-- changes nothing.
ALTER TABLE deliveries ADD COLUMN round bigint NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_campaign_step_contact_round_key
    UNIQUE (campaign_id, step, contact_id, round);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_id_step_contact_id_key;

---- create above / drop below ----

ALTER TABLE deliveries ADD CONSTRAINT deliveries_campaign_id_step_contact_id_key
    UNIQUE (campaign_id, step, contact_id);
ALTER TABLE deliveries DROP CONSTRAINT deliveries_campaign_step_contact_round_key;
ALTER TABLE deliveries DROP COLUMN round;
