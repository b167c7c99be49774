-- The forms package's statements on forms, form_signups and form_events,
-- by name.

-- name: create_form
INSERT INTO forms (name, fields, topic_ids, double_opt_in, redirect_url, message, language)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, name, fields, topic_ids, double_opt_in, redirect_url, message, language,
    views, submissions, confirmations, rejected, created_at, updated_at;

-- name: get_form
SELECT id, name, fields, topic_ids, double_opt_in, redirect_url, message, language,
    views, submissions, confirmations, rejected, created_at, updated_at
FROM forms WHERE id = $1;

-- name: update_form
UPDATE forms SET name = $2, fields = $3, topic_ids = $4, double_opt_in = $5, redirect_url = $6,
    message = $7, language = $8, updated_at = now()
WHERE id = $1
RETURNING id, name, fields, topic_ids, double_opt_in, redirect_url, message, language,
    views, submissions, confirmations, rejected, created_at, updated_at;

-- name: delete_form
-- Its signups and events go with it (a pending signup's link then says it
-- is no longer valid).
DELETE FROM forms WHERE id = $1 RETURNING id;

-- name: list_forms
-- Newest first, keyset on id ($1 = 0: from the newest).
SELECT id, name, fields, topic_ids, double_opt_in, redirect_url, message, language,
    views, submissions, confirmations, rejected, created_at, updated_at
FROM forms WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2;

-- name: count_event
-- Appends one form_events row and bumps its counter in the same statement,
-- so the counters always equal the rows. $2 is the kind, $3 the signup (or
-- NULL), $4 the time. No row back: no such form.
WITH e AS (
    INSERT INTO form_events (form_id, kind, signup_id, at)
    SELECT id, $2, $3, $4 FROM forms WHERE id = $1
    RETURNING form_id, kind
)
UPDATE forms f SET
    views = f.views + (e.kind = 'view')::int,
    submissions = f.submissions + (e.kind = 'submission')::int,
    confirmations = f.confirmations + (e.kind = 'confirmation')::int,
    rejected = f.rejected + (e.kind = 'rejected')::int
FROM e WHERE f.id = e.form_id
RETURNING f.id;

-- name: lock_address
-- Serialises the signups of one contact (the mail cap below), for the
-- transaction.
SELECT pg_advisory_xact_lock(hashtextextended('peykar-form-signup', $1));

-- name: mails_since
-- Confirmation mails queued for contact $1 since $2.
SELECT count(*) FROM form_signups WHERE contact_id = $1 AND mailed AND created_at > $2;

-- name: create_signup
INSERT INTO form_signups (form_id, contact_id, topic_ids, created_at, expires_at, mailed)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id;

-- name: get_signup
SELECT s.id, s.form_id, s.contact_id, s.topic_ids, s.created_at, s.expires_at, s.confirmed_at
FROM form_signups s WHERE s.id = $1;

-- name: confirm_signup
-- First confirmation only: no row back when it was confirmed before.
UPDATE form_signups SET confirmed_at = $2 WHERE id = $1 AND confirmed_at IS NULL RETURNING id;

-- name: raw_counts
-- The form_events rows per kind, for checking the counters.
SELECT count(*) FILTER (WHERE kind = 'view'), count(*) FILTER (WHERE kind = 'submission'),
    count(*) FILTER (WHERE kind = 'confirmation'), count(*) FILTER (WHERE kind = 'rejected')
FROM form_events WHERE form_id = $1;
