-- Follow-up rules: each (campaign, rule, delivery) fires at most once,
-- enforced here; a run-time failure is recorded in the same row.
CREATE TABLE rule_firings (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    rule_name   text NOT NULL,
    delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('fired', 'failed', 'skipped')),
    error       text NOT NULL DEFAULT '',
    fired_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, rule_name, delivery_id)
);

-- Contacts that left a campaign's journey (the exit action): no further
-- rule fires for them in that campaign.
CREATE TABLE campaign_exits (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    rule_name   text NOT NULL,
    exited_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, contact_id)
);

---- create above / drop below ----

DROP TABLE campaign_exits, rule_firings;
