-- Signup forms (issue 20): public forms that subscribe people to topics,
-- with double opt-in, and their numbers.
--
-- A contact created by a double opt-in form is 'pending' until the person
-- confirms: only 'active' contacts are sendable, so no campaign (segment or
-- topic) reaches them before that.
ALTER TABLE contacts DROP CONSTRAINT contacts_status_check;
ALTER TABLE contacts ADD CONSTRAINT contacts_status_check
    CHECK (status IN ('active', 'pending', 'unsubscribed', 'bounced', 'complained', 'erased'));

-- forms: the definition and its counters. views, submissions,
-- confirmations and rejected always equal the form_events rows of that kind
-- (each row and its counter change in one statement; docs/metrics.md).
CREATE TABLE forms (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    fields        text[] NOT NULL DEFAULT '{email}',
    topic_ids     bigint[] NOT NULL DEFAULT '{}',
    double_opt_in boolean NOT NULL DEFAULT true,
    redirect_url  text,
    message       text NOT NULL DEFAULT '',
    language      text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'fa')),
    views         bigint NOT NULL DEFAULT 0,
    submissions   bigint NOT NULL DEFAULT 0,
    confirmations bigint NOT NULL DEFAULT 0,
    rejected      bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- form_signups: one accepted submit. The confirmation link names its id;
-- where the person acted (IP, user agent) is in consent_records, which
-- erasure clears.
CREATE TABLE form_signups (
    id           bigserial PRIMARY KEY,
    form_id      bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    contact_id   bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    topic_ids    bigint[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    mailed       boolean NOT NULL DEFAULT false   -- a confirmation mail was queued for it
);
CREATE INDEX form_signups_contact_idx ON form_signups (contact_id, created_at);

-- form_events: the raw rows behind the counters.
CREATE TABLE form_events (
    id        bigserial PRIMARY KEY,
    form_id   bigint NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    kind      text NOT NULL CHECK (kind IN ('view', 'submission', 'confirmation', 'rejected')),
    signup_id bigint REFERENCES form_signups (id) ON DELETE SET NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX form_events_form_idx ON form_events (form_id, kind);

---- create above / drop below ----

DROP TABLE form_events, form_signups, forms;
UPDATE contacts SET status = 'active' WHERE status = 'pending';
ALTER TABLE contacts DROP CONSTRAINT contacts_status_check;
ALTER TABLE contacts ADD CONSTRAINT contacts_status_check
    CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'erased'));
