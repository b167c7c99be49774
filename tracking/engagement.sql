-- name: queue_engagement
-- One writer batch's contact engagement deltas (engagement.go), written in
-- the batch's own transaction.
INSERT INTO engagement_queue (contact_ids, opens, clicks, last_open, last_click)
VALUES ($1::bigint[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[]);

-- name: take_engagement
-- The oldest waiting batches no other follower holds, removed in the
-- follower's transaction: they are gone only if it commits the contacts'
-- update with them.
DELETE FROM engagement_queue q
WHERE q.id IN (SELECT id FROM engagement_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING q.contact_ids, q.opens, q.clicks, q.last_open, q.last_click;

-- name: engagement_waiting
-- Batches waiting (or held by a follower); for tests and settling.
SELECT count(*) FROM engagement_queue;
