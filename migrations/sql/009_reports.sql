-- Reports: converted recipients (distinct deliveries with a conversion)
-- by an index-only scan of the few conversion events, not of all events.
CREATE INDEX events_conversions_idx ON events (campaign_id, step, delivery_id) WHERE type = 'conversion';

---- create above / drop below ----

DROP INDEX events_conversions_idx;
