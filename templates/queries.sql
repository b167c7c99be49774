-- The templates package's queries on the templates table, by name.

-- name: get
SELECT id, name, subject, html, text, created_at, updated_at
FROM templates WHERE id = $1;

-- name: list
SELECT id, name, subject, html, text, created_at, updated_at
FROM templates WHERE id > $1 ORDER BY id LIMIT $2;

-- name: create
INSERT INTO templates (name, subject, html, text)
VALUES ($1, $2, $3, $4)
RETURNING id, name, subject, html, text, created_at, updated_at;

-- name: update
UPDATE templates SET name = $2, subject = $3, html = $4, text = $5, updated_at = now()
WHERE id = $1
RETURNING id, name, subject, html, text, created_at, updated_at;
