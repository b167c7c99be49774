-- The messages package's statements on the messages table (which it owns).

-- name: release_key
-- A key held longer than the TTL ($2: the oldest created_at still held) is
-- released, so the request that brings it again starts afresh.
UPDATE messages SET idempotency_key = NULL WHERE idempotency_key = $1 AND created_at < $2;

-- name: next_id
-- A new message's id, taken before its delivery (whose round it is) is
-- inserted, so the message row is written once, with its delivery.
SELECT nextval(pg_get_serial_sequence('messages', 'id'));

-- name: insert
-- A new message; a held key makes it a no-op (the unique index waits for a
-- concurrent holder to commit or roll back) and no row comes back.
INSERT INTO messages (id, idempotency_key, request_hash, template_id, campaign_id, contact_id, contact_created, data, transactional,
	delivery_id, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id;

-- name: by_key
-- The message holding a key: its id and request hash.
SELECT id, request_hash FROM messages WHERE idempotency_key = $1;

-- name: get
SELECT id, template_id, campaign_id, contact_id, contact_created, delivery_id, data, transactional,
	status, detail, created_at, updated_at
FROM messages WHERE id = $1;

-- name: finish
-- The outcomes of messages' deliveries, in one statement over arrays.
UPDATE messages m SET status = v.status, detail = v.detail, updated_at = $4
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, status, detail)
WHERE m.id = v.id;

-- name: expire_keys
-- The sweep: releases up to $2 keys held since before $1.
UPDATE messages SET idempotency_key = NULL
WHERE id IN (SELECT id FROM messages WHERE idempotency_key IS NOT NULL AND created_at < $1 ORDER BY created_at LIMIT $2);

-- name: next_ids
-- The ids of $1 new messages, for a group of requests stored together.
SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1);

-- name: held_keys
-- The messages holding any of the keys $1: id, key, request hash, and
-- whether it was taken before $2 (past the TTL: to release).
SELECT id, idempotency_key, request_hash, created_at < $2 FROM messages WHERE idempotency_key = ANY($1);

-- name: release_keys
-- release_key for many keys at once.
UPDATE messages SET idempotency_key = NULL WHERE idempotency_key = ANY($1) AND created_at < $2;

-- name: insert_many
-- insert for a group of requests, over arrays: a key held meanwhile (a
-- concurrent holder the group did not see) is skipped and its row missing
-- from the answer, for the caller to roll back and try again.
INSERT INTO messages (id, idempotency_key, request_hash, template_id, campaign_id, contact_id, contact_created, data, transactional,
	delivery_id, created_at, updated_at)
SELECT v.id, v.key, v.hash, v.template_id, v.campaign_id, v.contact_id, v.created, v.data, v.transactional, v.delivery_id, $11, $11
FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bigint[], $5::bigint[], $6::bigint[], $7::boolean[], $8::jsonb[],
	$9::boolean[], $10::bigint[]) AS v(id, key, hash, template_id, campaign_id, contact_id, created, data, transactional, delivery_id)
ON CONFLICT (idempotency_key) DO NOTHING;
