-- The topics package's statements on topics, contact_topics and
-- consent_records, by name.

-- name: create_topic
INSERT INTO topics (name, description, public) VALUES ($1, $2, $3)
RETURNING id, name, description, public, archived_at, created_at, updated_at;

-- name: get_topic
SELECT id, name, description, public, archived_at, created_at, updated_at FROM topics WHERE id = $1;

-- name: update_topic
-- No row back means no such topic.
UPDATE topics SET name = $2, description = $3, public = $4, updated_at = now() WHERE id = $1
RETURNING id, name, description, public, archived_at, created_at, updated_at;

-- name: set_topic_archived
-- $2 true archives (keeps the first archived_at), false unarchives.
UPDATE topics SET archived_at = CASE WHEN $2::boolean THEN coalesce(archived_at, now()) END, updated_at = now()
WHERE id = $1 RETURNING id, name, description, public, archived_at, created_at, updated_at;

-- name: delete_topic
-- Only for a topic nobody has subscribed to and no consent record names
-- (the foreign keys refuse the rest: archive those).
DELETE FROM topics WHERE id = $1;

-- name: topic_users
-- The campaigns (any status, archived too) that target topic $1; campaigns
-- is the campaigns package's table, this only reads it.
SELECT id, name, status FROM campaigns WHERE $1 = ANY (topic_ids) ORDER BY id;

-- name: list_topics
-- All topics by name; $1 true: public ones only; $2 false leaves archived
-- ones out. The counts are the members per status.
SELECT t.id, t.name, t.description, t.public, t.archived_at, t.created_at, t.updated_at,
       count(*) FILTER (WHERE ct.status = 'subscribed'),
       count(*) FILTER (WHERE ct.status = 'pending'),
       count(*) FILTER (WHERE ct.status = 'unsubscribed')
FROM topics t LEFT JOIN contact_topics ct ON ct.topic_id = t.id
WHERE (NOT $1::boolean OR t.public) AND ($2::boolean OR t.archived_at IS NULL)
GROUP BY t.id ORDER BY lower(t.name), t.id;

-- name: topics_by_name
-- Live topics whose lower-cased names are in $1.
SELECT id, name, description, public, archived_at, created_at, updated_at FROM topics
WHERE lower(name) = ANY ($1::text[]) AND archived_at IS NULL;

-- name: topics_by_id
SELECT id, name, description, public, archived_at, created_at, updated_at FROM topics
WHERE id = ANY ($1::bigint[]) ORDER BY id;

-- name: set_subscription
-- Sets contact $1's status on topic $2 and appends its consent record, in
-- one statement; when the status is already $3 nothing changes and nothing
-- is recorded. pending → subscribed is recorded as "confirmed".
WITH prev AS (
    SELECT status FROM contact_topics WHERE contact_id = $1 AND topic_id = $2
), up AS (
    INSERT INTO contact_topics (contact_id, topic_id, status, source) VALUES ($1, $2, $3, $4)
    ON CONFLICT (contact_id, topic_id) DO UPDATE SET status = EXCLUDED.status, source = EXCLUDED.source, at = now()
    WHERE contact_topics.status <> EXCLUDED.status
    RETURNING 1
)
INSERT INTO consent_records (contact_id, channel, topic_id, change, source, ip, user_agent, user_id, detail)
SELECT $1, 'email', $2,
       CASE WHEN $3 = 'subscribed' AND (SELECT status FROM prev) = 'pending' THEN 'confirmed' ELSE $3 END,
       $4, $5::inet, $6, $7, $8
FROM up
RETURNING id;

-- name: record_consent
INSERT INTO consent_records (contact_id, channel, topic_id, change, source, ip, user_agent, user_id, detail)
VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8, $9)
RETURNING id;

-- name: contact_topics
-- Contact $1's subscriptions, by topic name.
SELECT ct.topic_id, t.name, ct.status, ct.at, ct.source
FROM contact_topics ct JOIN topics t ON t.id = ct.topic_id
WHERE ct.contact_id = $1 ORDER BY lower(t.name), t.id;

-- name: consent_history
-- Contact $1's consent records, newest first, after the record $2 (0: from
-- the newest), at most $3.
SELECT id, at, channel, topic_id, change, source, host(ip), user_agent, user_id, detail
FROM consent_records
WHERE contact_id = $1
  AND ($2::bigint = 0 OR (at, id) < (SELECT at, id FROM consent_records WHERE id = $2))
ORDER BY at DESC, id DESC LIMIT $3;

-- name: erase_consent
-- Erasure: keep that consent changed (when, which channel and topic, what
-- change, which kind of source) and drop where and how the person acted.
UPDATE consent_records SET ip = NULL, user_agent = '', detail = '{}'
WHERE contact_id = $1 AND (ip IS NOT NULL OR user_agent <> '' OR detail <> '{}');

-- name: erase_subscriptions
DELETE FROM contact_topics WHERE contact_id = $1;

-- name: subscribed_among
-- Which of contacts $1 are subscribed to at least one of topics $2.
SELECT DISTINCT contact_id FROM contact_topics
WHERE contact_id = ANY ($1::bigint[]) AND topic_id = ANY ($2::bigint[]) AND status = 'subscribed';

-- name: set_subscription_many
-- Set for many contacts on one topic ($1 contacts, $2 topic, $3 status,
-- then the source's columns), in contact order; returns how many changed.
WITH prev AS (
    SELECT contact_id, status FROM contact_topics WHERE topic_id = $2 AND contact_id = ANY ($1::bigint[])
), up AS (
    INSERT INTO contact_topics (contact_id, topic_id, status, source)
    SELECT DISTINCT u.id, $2::bigint, $3, $4 FROM unnest($1::bigint[]) AS u (id) ORDER BY u.id
    ON CONFLICT (contact_id, topic_id) DO UPDATE SET status = EXCLUDED.status, source = EXCLUDED.source, at = now()
    WHERE contact_topics.status <> EXCLUDED.status
    RETURNING contact_id
), rec AS (
    INSERT INTO consent_records (contact_id, channel, topic_id, change, source, ip, user_agent, user_id, detail)
    SELECT up.contact_id, 'email', $2,
           CASE WHEN $3 = 'subscribed' AND prev.status = 'pending' THEN 'confirmed' ELSE $3 END,
           $4, $5::inet, $6, $7, $8
    FROM up LEFT JOIN prev ON prev.contact_id = up.contact_id
    RETURNING 1
)
SELECT count(*) FROM rec;

-- name: subscribe_new_many
-- Subscribes each (contact $1[i], topic $2[i]) that has no state on that
-- topic yet, recording each; returns how many. An existing state
-- (subscribed, pending, unsubscribed) stays: an import never re-subscribes
-- someone who left a topic.
WITH ins AS (
    INSERT INTO contact_topics (contact_id, topic_id, status, source)
    SELECT DISTINCT p.contact_id, p.topic_id, 'subscribed', $3 FROM unnest($1::bigint[], $2::bigint[]) AS p (contact_id, topic_id)
    ORDER BY 1, 2
    ON CONFLICT (contact_id, topic_id) DO NOTHING
    RETURNING contact_id, topic_id
), rec AS (
    INSERT INTO consent_records (contact_id, channel, topic_id, change, source, ip, user_agent, user_id, detail)
    SELECT contact_id, 'email', topic_id, 'subscribed', $3, $4::inet, $5, $6, $7 FROM ins
    RETURNING 1
)
SELECT count(*) FROM rec;
