-- Journeys at volume (issue 19's benchmark target): a contact event that
-- may let its contact into a triggered campaign is written here, one row
-- per (event, campaign), in the event's own transaction. The engine's
-- inbox drainer takes every waiting row in one transaction and lets them
-- in with one Enter per campaign (their entries, deliveries, one rollup
-- update and a few send jobs), instead of one River job and one commit per
-- event. No foreign keys: a row lives for a fraction of a second, and a key
-- check would lock the campaign row from every event's transaction; the
-- drainer drops rows whose campaign is gone or takes no entries.
CREATE TABLE journey_inbox (
    id          bigserial PRIMARY KEY,
    campaign_id bigint NOT NULL,
    contact_id  bigint NOT NULL,
    -- the event as entry.when sees it (engine.JourneyEvent)
    event       jsonb NOT NULL,
    -- failed drains of this row; the drainer gives a row up after a few
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE journey_inbox;
