-- The outbox package's queries on outbox_messages, the table it owns.

-- name: store_message
INSERT INTO outbox_messages (mail_from, rcpt_to, subject, message_id, raw) VALUES ($1, $2, $3, $4, $5);

-- name: list_messages
-- Newest first; $1 = 0 starts from the newest, $2 = '' lists every
-- recipient.
SELECT id, received_at, mail_from, rcpt_to, subject, message_id FROM outbox_messages
	WHERE ($1 = 0 OR id < $1) AND ($2 = '' OR rcpt_to @> ARRAY[$2])
	ORDER BY id DESC LIMIT $3;

-- name: message_raw
SELECT raw FROM outbox_messages WHERE id = $1;

-- name: message
SELECT id, received_at, mail_from, rcpt_to, subject, message_id, raw FROM outbox_messages WHERE id = $1;

-- name: prune
-- Deletes messages older than $2, but always keeps the newest $1.
DELETE FROM outbox_messages WHERE received_at < now() - $2::interval
	AND id < (SELECT coalesce(min(id), 0) FROM (SELECT id FROM outbox_messages ORDER BY id DESC LIMIT $1) newest);
