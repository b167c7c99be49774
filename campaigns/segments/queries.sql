-- The segments package's queries on the segments table, by name (the
-- compiler's translated WHERE clauses are built in Go).

-- name: create_segment
-- The rule is stored as written: it was compiled (validated) just before.
INSERT INTO segments (name, rule) VALUES ($1, $2)
RETURNING id, name, rule, created_at, updated_at;

-- name: get_segment
SELECT id, name, rule, created_at, updated_at FROM segments WHERE id = $1;

-- name: update_segment
-- Replaces name and rule; no row back means no such segment.
UPDATE segments SET name = $2, rule = $3, updated_at = now() WHERE id = $1
RETURNING id, name, rule, created_at, updated_at;

-- name: delete_segment
-- A campaign's foreign key refuses the delete (23503) while it uses the segment.
DELETE FROM segments WHERE id = $1;

-- name: list_segments
-- Keyset page in id order.
SELECT id, name, rule, created_at, updated_at FROM segments WHERE id > $1 ORDER BY id LIMIT $2;

-- name: max_contact_id
-- The upper end of the Go path's keyset windows.
SELECT COALESCE(max(id), 0) FROM contacts;
