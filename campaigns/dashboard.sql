-- The campaigns package's statements for the admin dashboard.

-- name: campaigns_by_status
-- Campaigns in statuses $1, the latest to finish (or launch) first, at
-- most $2.
SELECT id, name, segment_id, channel, from_name, from_email, reply_to, status,
	throttle_per_second, scheduled_at, launched_at, finished_at, rules, goals, settings, created_at, updated_at, archived_at,
	entry, reentry, exit, ends_at, transactional_template_id
FROM campaigns WHERE status = ANY ($1::text[])
ORDER BY coalesce(finished_at, launched_at, created_at) DESC, id DESC LIMIT $2;
