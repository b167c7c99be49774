-- The segments package's queries on the segments table, by name (the
-- compiler's translated WHERE clauses are built in Go).

-- name: create_segment
-- The rule is stored as written: it was compiled (validated) just before.
INSERT INTO segments (name, rule) VALUES ($1, $2)
RETURNING id, name, rule, created_at, updated_at, archived_at;

-- name: get_segment
SELECT id, name, rule, created_at, updated_at, archived_at FROM segments WHERE id = $1;

-- name: update_segment
-- Replaces name and rule; no row back means no such segment.
UPDATE segments SET name = $2, rule = $3, updated_at = now() WHERE id = $1
RETURNING id, name, rule, created_at, updated_at, archived_at;

-- name: delete_segment
-- A campaign's foreign key refuses the delete (23503) while it uses the segment.
DELETE FROM segments WHERE id = $1;

-- name: list_segments
-- Keyset page in id order; $3 false leaves archived segments out.
SELECT id, name, rule, created_at, updated_at, archived_at FROM segments
WHERE id > $1 AND ($3 OR archived_at IS NULL) ORDER BY id LIMIT $2;

-- name: count_segments
-- The list's total; $1 false leaves archived segments out.
SELECT count(*) FROM segments WHERE $1 OR archived_at IS NULL;

-- name: segment_users
-- The campaigns (any status, archived too) that use segment $1: they keep
-- it from being deleted. campaigns is the campaigns package's; this only
-- reads it.
SELECT id, name, status FROM campaigns WHERE segment_id = $1 ORDER BY id;

-- name: set_segment_archived
-- $2 true archives (keeps the first archived_at), false unarchives.
UPDATE segments SET archived_at = CASE WHEN $2::boolean THEN coalesce(archived_at, now()) END
WHERE id = $1 RETURNING id, name, rule, created_at, updated_at, archived_at;

-- name: max_contact_id
-- The upper end of the Go path's keyset windows.
SELECT COALESCE(max(id), 0) FROM contacts;

-- name: campaign_refs
-- The campaigns a segment's opened()/clicked() name, by id ($1) or name
-- ($2), to check them when the segment is saved (read only).
SELECT id, name FROM campaigns WHERE id = ANY($1::bigint[]) OR name = ANY($2::text[]) ORDER BY id;

-- name: builder_event_types
-- The event types among the newest $1 transactions (the contacts
-- package's table; read only), for the segment builder.
SELECT DISTINCT type FROM (SELECT type FROM transactions ORDER BY id DESC LIMIT $1) s ORDER BY 1;

-- name: builder_campaigns
-- The newest $1 campaigns not archived, for the builder's opened/clicked
-- (read only).
SELECT id, name FROM campaigns WHERE archived_at IS NULL ORDER BY id DESC LIMIT $1;
