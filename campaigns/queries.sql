-- The campaigns package's queries on the campaigns, campaign_steps and
-- campaign_links tables (which it owns), and its reads of rule_firings.

-- name: get_campaign
SELECT id, name, segment_id, channel, from_name, from_email, reply_to, status,
	throttle_per_second, scheduled_at, launched_at, finished_at, rules, goals, settings, created_at, updated_at, archived_at,
	entry, reentry, exit, ends_at, transactional_template_id
FROM campaigns WHERE id = $1;

-- name: get_campaign_for_update
-- get_campaign locking the row until the transaction ends.
SELECT id, name, segment_id, channel, from_name, from_email, reply_to, status,
	throttle_per_second, scheduled_at, launched_at, finished_at, rules, goals, settings, created_at, updated_at, archived_at,
	entry, reentry, exit, ends_at, transactional_template_id
FROM campaigns WHERE id = $1 FOR UPDATE;

-- name: list_campaigns
-- Newest first; $1 = 0 starts from the newest; $3 false leaves archived ones out.
SELECT id, name, segment_id, channel, from_name, from_email, reply_to, status,
	throttle_per_second, scheduled_at, launched_at, finished_at, rules, goals, settings, created_at, updated_at, archived_at,
	entry, reentry, exit, ends_at, transactional_template_id
FROM campaigns WHERE ($1 = 0 OR id < $1) AND ($3 OR archived_at IS NULL) ORDER BY id DESC LIMIT $2;

-- name: list_steps
-- A draft step may have no template yet (NULL): it reads as 0.
SELECT key, coalesce(template_id, 0) FROM campaign_steps WHERE campaign_id = $1 ORDER BY position;

-- name: insert_campaign
-- A new campaign is a draft (the column's default status).
INSERT INTO campaigns (name, segment_id, channel, from_name, from_email, reply_to, throttle_per_second,
	scheduled_at, rules, goals, settings, entry, reentry, exit, ends_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING status, created_at, updated_at, id;

-- name: update_campaign
-- The editable fields only: status and launch progress change elsewhere.
UPDATE campaigns SET name = $2, segment_id = $3, channel = $4, from_name = $5, from_email = $6, reply_to = $7,
	throttle_per_second = $8, scheduled_at = $9, rules = $10, goals = $11, settings = $12,
	entry = $13, reentry = $14, exit = $15, ends_at = $16, updated_at = now()
WHERE id = $1 RETURNING updated_at;

-- name: delete_steps
DELETE FROM campaign_steps WHERE campaign_id = $1;

-- name: insert_step
-- template_id 0 (a draft step without a template yet) is stored as NULL.
INSERT INTO campaign_steps (campaign_id, key, position, template_id) VALUES ($1, $2, $3, nullif($4::bigint, 0));

-- name: set_status
-- launched_at is when the campaign first became running: when sending
-- began (for a scheduled campaign, when its launch job started, not when
-- Launch was pressed). finished_at is when it finished or was cancelled.
UPDATE campaigns SET status = $2, updated_at = now(),
	launched_at = CASE WHEN $2 = 'running' AND launched_at IS NULL THEN now() ELSE launched_at END,
	finished_at = CASE WHEN $2 IN ('finished', 'cancelled') THEN now() ELSE finished_at END
WHERE id = $1;

-- name: set_status_only
-- Stopping a finished campaign's rules: it keeps finished_at (when its
-- sends were done).
UPDATE campaigns SET status = $2, updated_at = now() WHERE id = $1;

-- name: delete_links
-- SaveLinks replaces a step's links: the new ones are copied in after.
DELETE FROM campaign_links WHERE campaign_id = $1 AND step = $2;

-- name: advance_launch
UPDATE campaigns SET launch_cursor = $2, suppressed = suppressed + $3, launch_done = $4 WHERE id = $1;

-- name: launch_state
SELECT launch_cursor, launch_done, suppressed, status, launched_at, throttle_per_second
FROM campaigns WHERE id = $1;

-- name: finish
-- Only a running campaign whose launch walked the whole segment finishes;
-- the caller holds the row lock (lock_row) and has checked nothing is left.
UPDATE campaigns SET status = 'finished', finished_at = now(), updated_at = now()
WHERE id = $1 AND status = 'running' AND launch_done;

-- name: lock_row
-- Serialises the transactions that decide whether a campaign is finished,
-- and orders them after (or before) every transaction that updates the
-- row: the launch's pages (cursor, launch_done), pause, resume, cancel.
-- NO KEY UPDATE, not UPDATE: the foreign-key checks of rows inserted for
-- the campaign (deliveries, the outcome flush's campaign_people) take
-- FOR KEY SHARE, which FOR UPDATE would block, so every send job's finish
-- decision used to stall every outcome flush of the campaign until it
-- committed (and itself wait for all of them).
SELECT 1 FROM campaigns WHERE id = $1 FOR NO KEY UPDATE;

-- name: status_of
SELECT status, throttle_per_second FROM campaigns WHERE id = $1;

-- name: ensure_webhook_secret
-- Sets settings.webhook.secret to $2 only when it has none: concurrent
-- callers agree on the first secret written.
UPDATE campaigns
SET settings = jsonb_set(coalesce(settings, '{}'), '{webhook}',
	coalesce(settings->'webhook', '{}') || jsonb_build_object('secret', $2::text))
WHERE id = $1 AND coalesce(settings->'webhook'->>'secret', '') = '';

-- name: webhook_secret
SELECT settings->'webhook'->>'secret' FROM campaigns WHERE id = $1;

-- name: report_links
SELECT step, idx, url, name FROM campaign_links WHERE campaign_id = $1 ORDER BY step, idx;

-- name: report_rule_counts
-- rule_firings is engine's; the report only reads it.
SELECT rule_name,
	count(*) FILTER (WHERE status = 'fired'), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'skipped')
FROM rule_firings WHERE campaign_id = $1 GROUP BY rule_name ORDER BY rule_name;

-- name: rule_stats
-- Per rule: fired and failed counts and the most recent failure's message.
SELECT rule_name, count(*) FILTER (WHERE status = 'fired'), count(*) FILTER (WHERE status = 'failed'),
	coalesce((array_agg(error ORDER BY fired_at DESC) FILTER (WHERE status = 'failed'))[1], '')
FROM rule_firings WHERE campaign_id = $1 GROUP BY rule_name;

-- name: link
-- One tracked link of a step, by its index (the clicked link of a rule's event).
SELECT url, name FROM campaign_links WHERE campaign_id = $1 AND step = $2 AND idx = $3;

-- name: count_campaigns
-- The list's total; $1 false leaves archived ones out.
SELECT count(*) FROM campaigns WHERE $1 OR archived_at IS NULL;

-- name: campaign_names_like
-- The names taken by a campaign's copies, for Duplicate's "(copy N)".
SELECT name FROM campaigns WHERE name = $1 OR starts_with(name, $2);

-- name: delete_campaign
-- Only a draft is deleted: its steps and links go with it (ON DELETE
-- CASCADE); it has no deliveries, events or counters.
DELETE FROM campaigns WHERE id = $1 AND status = 'draft';

-- name: set_archived
-- $2 true archives (keeps the first archived_at), false unarchives.
UPDATE campaigns SET archived_at = CASE WHEN $2::boolean THEN coalesce(archived_at, now()) END
WHERE id = $1 RETURNING archived_at;

-- name: campaign_topics
-- The topics a campaign targets (issue 20).
SELECT topic_ids FROM campaigns WHERE id = $1;

-- name: set_campaign_topics
UPDATE campaigns SET topic_ids = $2 WHERE id = $1;
-- name: list_triggered
-- The running (or paused) campaigns a contact event may concern: triggered
-- entries, or exit conditions. Served by the campaigns_triggered index.
SELECT id, name, segment_id, channel, from_name, from_email, reply_to, status,
	throttle_per_second, scheduled_at, launched_at, finished_at, rules, goals, settings, created_at, updated_at, archived_at,
	entry, reentry, exit, ends_at, transactional_template_id
FROM campaigns WHERE status IN ('running', 'paused') AND (entry->>'type' <> 'segment' OR exit <> '[]') ORDER BY id;

-- name: list_entries
-- A triggered campaign's entries, newest first (keyset on id, $2 = 0 from
-- the newest), of status $3 ('' any). campaign_entries is engine's; the
-- entries API only reads it.
SELECT id, contact_id, entered_at, step, status, exit_reason, exited_at FROM campaign_entries
WHERE campaign_id = $1 AND ($2::bigint = 0 OR id < $2) AND ($3::text = '' OR status = $3)
ORDER BY id DESC LIMIT $4;

-- name: count_entries
-- A triggered campaign's entries counted by status and, for exits, by
-- reason (exit_reason is '' for the other statuses): one grouped read.
SELECT status, exit_reason, count(*) FROM campaign_entries
WHERE campaign_id = $1 GROUP BY status, exit_reason;

-- name: finish_ended
-- Triggered campaigns whose ends_at has come ($1, the engine's clock)
-- finish: they take no more entries; entries in flight still go on.
UPDATE campaigns SET status = 'finished', finished_at = $1, updated_at = now()
WHERE status = 'running' AND entry->>'type' <> 'segment' AND ends_at <= $1
-- name: transactional_campaign
-- The system campaign that carries template $1's transactional messages.
SELECT id FROM campaigns WHERE transactional_template_id = $1;

-- name: insert_transactional_campaign
-- Created on first use, running from the start; a concurrent first use
-- waits on the unique index and inserts nothing (the caller reads it).
INSERT INTO campaigns (name, from_name, from_email, status, launched_at, transactional_template_id)
VALUES ($1, $2, $3, 'running', now(), $4)
ON CONFLICT (transactional_template_id) DO NOTHING
RETURNING id;

-- name: campaign_channels
-- The webhook channels campaigns send on (settings.webhook.kind, or
-- webhook when none is named), by name: a contact's profile shows each.
SELECT DISTINCT coalesce(nullif(settings->'webhook'->>'kind', ''), 'webhook') AS kind
FROM campaigns WHERE channel = 'webhook' ORDER BY kind;
