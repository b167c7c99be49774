-- Transactional messages (issue 19): POST /api/v1/messages sends one
-- template to one contact. Each template's messages are the deliveries of
-- a system campaign of its own (transactional_template_id set: created on
-- first use, never launched as a blast), one delivery per message with
-- round = the message's id, so they share the reports, tracking and
-- rollups of campaign mail.
ALTER TABLE campaigns ADD COLUMN transactional_template_id bigint UNIQUE REFERENCES templates (id);

-- One row per accepted request. idempotency_key is unique while it is
-- held: a second request with the key finds this row (the unique index
-- decides between concurrent ones) and gets the first answer; the key is
-- released (set NULL) 24 hours after created_at, on use or by the sweep.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    idempotency_key text UNIQUE,
    request_hash    bytea NOT NULL,
    template_id     bigint NOT NULL REFERENCES templates (id),
    campaign_id     bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    contact_id      bigint REFERENCES contacts (id) ON DELETE SET NULL,
    contact_created boolean NOT NULL DEFAULT false,  -- the request's "to" created the contact
    delivery_id     bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    data            jsonb NOT NULL DEFAULT '{}',
    transactional   boolean NOT NULL DEFAULT false,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed', 'bounced', 'suppressed')),
    detail          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- The sweep's scan: held keys by age.
CREATE INDEX messages_held_keys_idx ON messages (created_at) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_contact_idx ON messages (contact_id);

---- create above / drop below ----

DROP TABLE messages;
ALTER TABLE campaigns DROP COLUMN transactional_template_id;
