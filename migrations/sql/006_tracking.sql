-- Tracking: the firsts of machine traffic (so unique human counts are set
-- by human events only and totals can still count machine-only
-- recipients), the honeypot and unsubscribe marks that deduplicate, and a
-- honeypot event type for the hidden link every email carries.
ALTER TABLE deliveries
    ADD COLUMN first_machine_open_at  timestamptz,
    ADD COLUMN first_machine_click_at timestamptz,
    ADD COLUMN honeypot_at            timestamptz,
    ADD COLUMN unsubscribed_at        timestamptz,
    ADD COLUMN complained_at          timestamptz;

ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check
    CHECK (type IN ('open', 'click', 'unsubscribe', 'conversion', 'bounce', 'complaint', 'honeypot'));

-- Leave room on each page so the writer's updates of deliveries (firsts)
-- and contacts (stats) are HOT updates: no index entries to add, far less
-- work per tracked event. Applies to pages written from now on.
ALTER TABLE deliveries SET (fillfactor = 80);
ALTER TABLE contacts SET (fillfactor = 85);

---- create above / drop below ----

ALTER TABLE deliveries RESET (fillfactor);
ALTER TABLE contacts RESET (fillfactor);

DELETE FROM events WHERE type = 'honeypot';
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check
    CHECK (type IN ('open', 'click', 'unsubscribe', 'conversion', 'bounce', 'complaint'));
ALTER TABLE deliveries
    DROP COLUMN first_machine_open_at,
    DROP COLUMN first_machine_click_at,
    DROP COLUMN honeypot_at,
    DROP COLUMN unsubscribed_at,
    DROP COLUMN complained_at;
