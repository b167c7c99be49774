-- The core schema shared by campaigns, templates, engine and tracking.
-- Each package owns the SQL on its tables; this migration only lays them out
-- so that the packages agree.

-- Contacts: one row per person, email unique case-insensitively.
CREATE TABLE contacts (
    id               bigserial PRIMARY KEY,
    email            text NOT NULL,                 -- normalised: trimmed, domain lower-cased
    email_key        text GENERATED ALWAYS AS (lower(email)) STORED,
    name             text NOT NULL DEFAULT '',
    attributes       jsonb NOT NULL DEFAULT '{}',
    tags             text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'erased')),
    consent_source   text,
    consent_at       timestamptz,
    consent_ip       inet,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- behavioural stats, kept current by the sending engine and tracking
    sent             integer NOT NULL DEFAULT 0,
    opens            integer NOT NULL DEFAULT 0,
    clicks           integer NOT NULL DEFAULT 0,
    conversions      integer NOT NULL DEFAULT 0,
    revenue          numeric(18, 4) NOT NULL DEFAULT 0,
    last_open_at     timestamptz,
    last_click_at    timestamptz,
    last_purchase_at timestamptz,
    CONSTRAINT contacts_attributes_object CHECK (jsonb_typeof(attributes) = 'object')
);
CREATE UNIQUE INDEX contacts_email_key_idx ON contacts (email_key);
CREATE INDEX contacts_tags_idx ON contacts USING gin (tags);
CREATE INDEX contacts_attributes_idx ON contacts USING gin (attributes jsonb_path_ops);

-- Addresses and domains that must never receive mail, beyond contacts'
-- own status (manual suppressions, imported do-not-mail lists).
CREATE TABLE suppressions (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('address', 'domain')),
    value      text NOT NULL,                       -- lower-cased address or domain
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value)
);

-- Segments: named expr predicates over a contact.
CREATE TABLE segments (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    rule       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Email templates.
CREATE TABLE templates (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    subject    text NOT NULL,
    html       text NOT NULL,
    text       text NOT NULL DEFAULT '',            -- empty: generated from html
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Campaigns. Rules and goals are part of the campaign document.
CREATE TABLE campaigns (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL,
    segment_id          bigint REFERENCES segments (id),
    channel             text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'webhook')),
    from_name           text NOT NULL DEFAULT '',
    from_email          text NOT NULL DEFAULT '',
    reply_to            text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled')),
    throttle_per_second double precision NOT NULL DEFAULT 0,
    scheduled_at        timestamptz,
    launched_at         timestamptz,
    finished_at         timestamptz,
    rules               jsonb NOT NULL DEFAULT '[]',
    goals               jsonb NOT NULL DEFAULT '[]',
    settings            jsonb NOT NULL DEFAULT '{}',  -- utm, conversion_window, rules_until, frequency cap, webhook
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- A campaign's messages: the first send and follow-ups, by key.
CREATE TABLE campaign_steps (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    key         text NOT NULL,
    position    integer NOT NULL,
    template_id bigint NOT NULL REFERENCES templates (id),
    PRIMARY KEY (campaign_id, key)
);

-- The tracked links of a campaign step, by their position in the template,
-- so clicks redirect only to URLs the campaign contained and reports can
-- show per-link clicks.
CREATE TABLE campaign_links (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    step        text NOT NULL,
    idx         integer NOT NULL,
    url         text NOT NULL,
    name        text NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, step, idx)
);

-- One row per (campaign, step, contact): the per-recipient record.
CREATE TABLE deliveries (
    id             bigserial PRIMARY KEY,
    campaign_id    bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    step           text NOT NULL,
    contact_id     bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status         text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'complained', 'skipped')),
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text NOT NULL DEFAULT '',
    response       text NOT NULL DEFAULT '',        -- the server's answer on success
    queued_at      timestamptz NOT NULL DEFAULT now(),
    sending_at     timestamptz,
    sent_at        timestamptz,
    bounced_at     timestamptz,
    first_open_at  timestamptz,
    first_click_at timestamptz,
    UNIQUE (campaign_id, step, contact_id)
);
CREATE INDEX deliveries_campaign_status_idx ON deliveries (campaign_id, status);
CREATE INDEX deliveries_contact_idx ON deliveries (contact_id);

-- Transactions and custom events posted for a contact (purchases, sign-ups).
CREATE TABLE transactions (
    id          bigserial PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    type        text NOT NULL,
    value       numeric(18, 4) NOT NULL DEFAULT 0,
    currency    text NOT NULL DEFAULT '',
    campaign_id bigint REFERENCES campaigns (id) ON DELETE SET NULL,
    delivery_id bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    attributes  jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transactions_contact_idx ON transactions (contact_id, occurred_at);
CREATE INDEX transactions_campaign_idx ON transactions (campaign_id) WHERE campaign_id IS NOT NULL;

-- Tracking events: what recipients (and machines) did with a delivery.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    campaign_id bigint NOT NULL,
    step        text NOT NULL,
    contact_id  bigint NOT NULL,
    type        text NOT NULL CHECK (type IN ('open', 'click', 'unsubscribe', 'conversion', 'bounce', 'complaint')),
    link_idx    integer,
    value       numeric(18, 4) NOT NULL DEFAULT 0,
    machine     boolean NOT NULL DEFAULT false,
    reason      text NOT NULL DEFAULT '',            -- why it was classified machine, bounce details
    user_agent  text NOT NULL DEFAULT '',
    ip          inet,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_delivery_idx ON events (delivery_id);
CREATE INDEX events_campaign_idx ON events (campaign_id, type);

-- Rollups: counters per campaign, step, link, metric and minute, split by
-- human/machine, that reports read instead of scanning events.
CREATE TABLE rollups (
    campaign_id bigint NOT NULL,
    step        text NOT NULL,
    link_idx    integer NOT NULL DEFAULT -1,         -- -1: not about a link
    metric      text NOT NULL,
    bucket      timestamptz NOT NULL,                -- minute
    machine     boolean NOT NULL DEFAULT false,
    count       bigint NOT NULL DEFAULT 0,
    value       numeric(18, 4) NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, step, link_idx, metric, bucket, machine)
);

---- create above / drop below ----

DROP TABLE rollups, events, transactions, deliveries, campaign_links, campaign_steps, campaigns, templates, segments, suppressions, contacts;
