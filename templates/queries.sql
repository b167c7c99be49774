-- The templates package's queries on the templates table, by name.

-- name: get
SELECT id, name, subject, html, text, design, transactional, created_at, updated_at, archived_at
FROM templates WHERE id = $1;

-- name: list
-- $3 false leaves archived templates out.
SELECT id, name, subject, html, text, design, transactional, created_at, updated_at, archived_at
FROM templates WHERE id > $1 AND ($3 OR archived_at IS NULL) ORDER BY id LIMIT $2;

-- name: create
INSERT INTO templates (name, subject, html, text, design, transactional)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, name, subject, html, text, design, transactional, created_at, updated_at, archived_at;

-- name: update
-- A template a running campaign sends is not changed under it: recipients
-- of one send would get different messages (see running_users).
UPDATE templates SET name = $2, subject = $3, html = $4, text = $5, design = $6, transactional = $7, updated_at = now()
WHERE id = $1
  AND NOT EXISTS (SELECT 1 FROM campaign_steps s JOIN campaigns c ON c.id = s.campaign_id
                  WHERE s.template_id = $1 AND c.status = 'running')
RETURNING id, name, subject, html, text, design, transactional, created_at, updated_at, archived_at;

-- name: running_users
-- The running campaigns that send template $1, and whether it exists.
SELECT EXISTS (SELECT 1 FROM templates WHERE id = $1),
       coalesce(array_agg(DISTINCT format('%s "%s"', c.id, c.name)) FILTER (WHERE c.id IS NOT NULL), '{}')
FROM campaign_steps s JOIN campaigns c ON c.id = s.campaign_id AND c.status = 'running'
WHERE s.template_id = $1;

-- name: count
-- The list's total; $1 false leaves archived templates out.
SELECT count(*) FROM templates WHERE $1 OR archived_at IS NULL;

-- name: users
-- The campaigns (any status, archived too) with a step that sends template
-- $1: they keep it from being deleted. campaign_steps and campaigns are
-- the campaigns package's; this only reads them.
SELECT c.id, c.name, c.status FROM campaigns c
WHERE EXISTS (SELECT 1 FROM campaign_steps s WHERE s.campaign_id = c.id AND s.template_id = $1)
ORDER BY c.id;

-- name: delete
-- A campaign step's foreign key refuses the delete (23503) while one uses it.
DELETE FROM templates WHERE id = $1;

-- name: set_archived
-- $2 true archives (keeps the first archived_at), false unarchives.
UPDATE templates SET archived_at = CASE WHEN $2::boolean THEN coalesce(archived_at, now()) END
WHERE id = $1
RETURNING id, name, subject, html, text, design, transactional, created_at, updated_at, archived_at;
