-- Triggered (always-on) campaigns (issue 19). A campaign's entry says how
-- contacts come in: the segment at launch (a blast, as before), a contact
-- event, or entering the segment after launch. reentry is "never",
-- "always" or a Go duration (at most once per period); exit lists what
-- takes a contact out; ends_at is when a triggered campaign stops taking
-- entries.
ALTER TABLE campaigns
    ADD COLUMN entry jsonb NOT NULL DEFAULT '{"type":"segment"}',
    ADD COLUMN reentry text NOT NULL DEFAULT 'never',
    ADD COLUMN exit jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN ends_at timestamptz;

-- The running triggered campaigns, read on every contact event (the
-- engine caches them briefly).
CREATE INDEX campaigns_triggered ON campaigns (id)
    WHERE status IN ('running', 'paused') AND (entry->>'type' <> 'segment' OR exit <> '[]');

-- One row per contact's pass through a triggered campaign. Its id is the
-- round of the deliveries of that pass (deliveries.round), so the same
-- step can reach the same contact again on re-entry. step is the step
-- reached last; status active → done (nothing pending) or exited (an exit
-- condition, or the campaign cancelled: exit_reason says which); failed is
-- an entry whose entry.when could not be evaluated (exit_reason: the error),
-- which never counts against re-entry.
CREATE TABLE campaign_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id    bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id     bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    entered_at     timestamptz NOT NULL,
    step           text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'exited', 'done', 'failed')),
    exit_reason    text NOT NULL DEFAULT '',
    exited_at      timestamptz,
    -- The contact event (transactions.id) that caused the entry, if any;
    -- no foreign key: erasing a contact's transactions keeps the entry.
    transaction_id bigint
);

-- Re-entry: the last entry per campaign and contact.
CREATE INDEX campaign_entries_campaign_contact ON campaign_entries (campaign_id, contact_id, entered_at DESC);
-- Exits: a contact's active entries, in any campaign.
CREATE INDEX campaign_entries_active_contact ON campaign_entries (contact_id, campaign_id) WHERE status = 'active';
-- The entries API: a campaign's entries newest first (keyset on id).
CREATE INDEX campaign_entries_campaign_id ON campaign_entries (campaign_id, id DESC);

---- create above / drop below ----

DROP TABLE campaign_entries;
DROP INDEX campaigns_triggered;
ALTER TABLE campaigns DROP COLUMN entry, DROP COLUMN reentry, DROP COLUMN exit, DROP COLUMN ends_at;
