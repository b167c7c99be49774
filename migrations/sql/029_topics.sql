-- Subscriptions (issue 20): topics a contact subscribes to, and the record
-- of every consent change.
--
-- topics: subscription lists. A name is unique among live (not archived)
-- topics, case-insensitively; an archived one keeps its subscribers and
-- history but is hidden from lists and preference pages.
CREATE TABLE topics (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    description text NOT NULL DEFAULT '',
    public      boolean NOT NULL DEFAULT false,   -- shown on preference pages and forms
    archived_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX topics_live_name_idx ON topics (lower(name)) WHERE archived_at IS NULL;

-- A contact's current state per topic. pending: signed up, not yet
-- confirmed (double opt-in); only subscribed receives a topic's campaigns.
CREATE TABLE contact_topics (
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    topic_id   bigint NOT NULL REFERENCES topics (id),
    status     text NOT NULL CHECK (status IN ('subscribed', 'unsubscribed', 'pending')),
    at         timestamptz NOT NULL DEFAULT now(),
    source     text NOT NULL CHECK (source ~ '^[a-z_]{1,32}$'),
    PRIMARY KEY (contact_id, topic_id)
);
-- A topic's members by status (campaign targeting, counts).
CREATE INDEX contact_topics_topic_idx ON contact_topics (topic_id, status, contact_id);

-- Every consent change, appended: a topic's subscription (topic_id set) or
-- a channel's (topic_id NULL: e.g. an email or sms suppression). ip,
-- user_agent and detail are where the person acted; erasing the contact
-- clears them and keeps the fact that consent changed.
CREATE TABLE consent_records (
    id         bigserial PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    channel    text NOT NULL DEFAULT 'email' CHECK (channel ~ '^[a-z][a-z0-9_-]{0,31}$'),
    topic_id   bigint REFERENCES topics (id),
    change     text NOT NULL CHECK (change ~ '^[a-z_]{1,32}$'),
    source     text NOT NULL CHECK (source ~ '^[a-z_]{1,32}$'),
    ip         inet,
    user_agent text NOT NULL DEFAULT '',
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    detail     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX consent_records_contact_at_idx ON consent_records (contact_id, at, id);

-- A campaign may target topics: it reaches only their subscribed members
-- (with segment_id, both must hold). campaigns validates the ids on save.
ALTER TABLE campaigns ADD COLUMN topic_ids bigint[] NOT NULL DEFAULT '{}';

-- Bulk subscribe and unsubscribe (a topic per job).
ALTER TABLE bulk_jobs DROP CONSTRAINT bulk_jobs_action_check;
ALTER TABLE bulk_jobs ADD CONSTRAINT bulk_jobs_action_check
    CHECK (action IN ('tag', 'untag', 'suppress', 'erase', 'export', 'subscribe', 'unsubscribe'));
ALTER TABLE bulk_jobs ADD COLUMN topic_id bigint REFERENCES topics (id);

---- create above / drop below ----

ALTER TABLE bulk_jobs DROP COLUMN topic_id;
DELETE FROM bulk_jobs WHERE action IN ('subscribe', 'unsubscribe');
ALTER TABLE bulk_jobs DROP CONSTRAINT bulk_jobs_action_check;
ALTER TABLE bulk_jobs ADD CONSTRAINT bulk_jobs_action_check
    CHECK (action IN ('tag', 'untag', 'suppress', 'erase', 'export'));
ALTER TABLE campaigns DROP COLUMN topic_ids;
DROP TABLE consent_records, contact_topics, topics;
