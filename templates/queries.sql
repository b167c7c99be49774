-- The templates package's queries on the templates table, by name.

-- name: get
SELECT id, name, subject, html, text, design, transactional, created_at, updated_at
FROM templates WHERE id = $1;

-- name: list
SELECT id, name, subject, html, text, design, transactional, created_at, updated_at
FROM templates WHERE id > $1 ORDER BY id LIMIT $2;

-- name: create
INSERT INTO templates (name, subject, html, text, design, transactional)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, name, subject, html, text, design, transactional, created_at, updated_at;

-- name: update
-- A template a running campaign sends is not changed under it: recipients
-- of one send would get different messages (see running_users).
UPDATE templates SET name = $2, subject = $3, html = $4, text = $5, design = $6, transactional = $7, updated_at = now()
WHERE id = $1
  AND NOT EXISTS (SELECT 1 FROM campaign_steps s JOIN campaigns c ON c.id = s.campaign_id
                  WHERE s.template_id = $1 AND c.status = 'running')
RETURNING id, name, subject, html, text, design, transactional, created_at, updated_at;

-- name: running_users
-- The running campaigns that send template $1, and whether it exists.
SELECT EXISTS (SELECT 1 FROM templates WHERE id = $1),
       coalesce(array_agg(DISTINCT format('%s "%s"', c.id, c.name)) FILTER (WHERE c.id IS NOT NULL), '{}')
FROM campaign_steps s JOIN campaigns c ON c.id = s.campaign_id AND c.status = 'running'
WHERE s.template_id = $1;
