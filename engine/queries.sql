-- The engine's statements on the tables it owns: rule_firings and
-- campaign_exits (the follow-up rules' bookkeeping).

-- name: record_firing
-- The (rule, delivery) row: its primary key makes a rule fire at most once
-- per delivery, in the transaction of the actions. No row back means it
-- existed.
INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status, error)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING;

-- name: record_timer_skips
-- A timer rule's deliveries whose condition no longer held when its wait
-- ended (opened, clicked or converted meanwhile, or not sent after all):
-- skipped, once per (rule, delivery) as a firing is. deliveries is only
-- read, for each one's contact.
INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status)
SELECT campaign_id, $2, id, contact_id, 'skipped' FROM deliveries WHERE campaign_id = $1 AND id = ANY ($3)
ON CONFLICT DO NOTHING;

-- name: record_exit
-- A rule's exit action: the contact leaves the campaign; later follow-ups
-- of theirs are skipped.
INSERT INTO campaign_exits (campaign_id, contact_id, rule_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;

-- name: has_exited
SELECT EXISTS (SELECT 1 FROM campaign_exits WHERE campaign_id = $1 AND contact_id = $2);

-- name: follow_ups_waiting
-- The follow-ups a campaign's rules scheduled that have not run yet, in
-- deliveries: timer checks (rule_timer jobs, per rule) and sends waiting
-- out a rule's delay (send jobs that name their rule and step). River's
-- driver owns river_job; the engine only reads back the args it wrote. The
-- containment test uses River's GIN index on args.
SELECT kind, coalesce(args->>'rule', ''), coalesce(args->>'step', ''),
	coalesce(sum(coalesce((args->>'n')::bigint, jsonb_array_length(args->'delivery_ids'))), 0)::bigint
FROM river_job
WHERE state IN ('scheduled', 'available') AND kind IN ('rule_timer', 'send', 'send_packed')
	AND args @> jsonb_build_object('campaign_id', $1::bigint) AND args ? 'rule'
GROUP BY 1, 2, 3;

-- name: lock_entry
-- Serialises the entries of one contact into one campaign (two concurrent
-- signups must not make two entries), until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('campaign_entry/' || $1::bigint || '/' || $2::bigint, 0));

-- name: insert_entry
-- A contact's entry; its id is the round of its deliveries.
INSERT INTO campaign_entries (campaign_id, contact_id, entered_at, step, transaction_id, status, exit_reason, exited_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id;

-- name: set_entry_step
-- A new step of the entry was scheduled: it is its current step, and an
-- entry that was done is active again.
UPDATE campaign_entries SET step = $2, status = CASE WHEN status = 'done' THEN 'active' ELSE status END
WHERE id = $1 AND status IN ('active', 'done');

-- name: entry_done
UPDATE campaign_entries SET status = 'done' WHERE id = $1 AND status = 'active';

-- name: entry_exited
SELECT EXISTS (SELECT 1 FROM campaign_entries WHERE id = $1 AND status = 'exited');

-- name: exit_entries
-- The contact's active entries into the campaign leave it.
UPDATE campaign_entries SET status = 'exited', exit_reason = $3, exited_at = $4
WHERE contact_id = $2 AND campaign_id = $1 AND status = 'active'
RETURNING id;

-- name: exit_campaign_entries
-- Every active entry of the campaign leaves it (cancel).
UPDATE campaign_entries SET status = 'exited', exit_reason = $2, exited_at = $3
WHERE campaign_id = $1 AND status = 'active';

-- name: segment_entry_campaigns
-- The running (or paused) segment-entry campaigns; campaigns is only read.
SELECT id FROM campaigns WHERE status IN ('running', 'paused') AND entry->>'type' = 'segment_entry' ORDER BY id;

-- name: journey_sync_state
-- When the campaign's membership baseline was taken (no row: not yet).
SELECT baseline_at FROM journey_syncs WHERE campaign_id = $1;

-- name: journey_synced
-- The campaign's membership was compared with its segment at $2 (the first
-- time: the baseline).
INSERT INTO journey_syncs (campaign_id, baseline_at, synced_at) VALUES ($1, $2, $2)
ON CONFLICT (campaign_id) DO UPDATE SET synced_at = excluded.synced_at;

-- name: add_members
-- Contacts found in the campaign's segment at $3 by a walk stamped $4:
-- new ones get a row (entered is true: they entered it), known ones are
-- marked seen.
INSERT INTO journey_members (campaign_id, contact_id, since, seen_at)
SELECT $1, unnest($2::bigint[]), $3, $4
ON CONFLICT (campaign_id, contact_id) DO UPDATE SET seen_at = excluded.seen_at
RETURNING contact_id, (xmax = 0) AS entered;

-- name: add_member
-- One contact found in the segment; a row back means it was not a member.
INSERT INTO journey_members (campaign_id, contact_id, since, seen_at) VALUES ($1, $2, $3, $3)
ON CONFLICT DO NOTHING RETURNING contact_id;

-- name: remove_member
-- One contact no longer in the segment; a row back means it was a member.
DELETE FROM journey_members WHERE campaign_id = $1 AND contact_id = $2 RETURNING contact_id;

-- name: remove_unseen_members
-- After a full walk at $2 (segments evaluated in Go): up to $3 members
-- the walk did not find have left the segment.
DELETE FROM journey_members WHERE (campaign_id, contact_id) IN (
	SELECT campaign_id, contact_id FROM journey_members WHERE campaign_id = $1 AND seen_at < $2 LIMIT $3)
RETURNING contact_id;

-- name: process_register
-- A process comes up under its id (its River client's): a restart under
-- the same id is alive again.
INSERT INTO processes (id, mode, host, pid) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET mode = EXCLUDED.mode, host = EXCLUDED.host, pid = EXCLUDED.pid,
	started_at = now(), heartbeat_at = now(), stopped_at = NULL;

-- name: process_heartbeat
-- The process is alive, unless a sweep declared it dead (stopped_at set
-- under the row lock that this update waits for): then no row changes,
-- and the process learns that its jobs were taken over (fencing). A row
-- pruned meanwhile changes nothing either.
UPDATE processes SET heartbeat_at = now() WHERE id = $1 AND stopped_at IS NULL;

-- name: process_declare_dead
-- Processes silent for $1 are declared dead before their jobs are
-- rescued: the row lock orders this against their heartbeat, so a
-- process either beat in time (and is left alone) or is refused its next
-- heartbeat.
UPDATE processes SET stopped_at = now()
WHERE stopped_at IS NULL AND heartbeat_at < now() - $1::interval
RETURNING id;

-- name: process_sessions_end
-- The database sessions of processes just declared dead, by their
-- application_name (SessionName), in this database: ended, so their open
-- transactions roll back and free their row locks.
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = ANY ($1) AND datname = current_database() AND pid <> pg_backend_pid();

-- name: process_stop
-- A clean stop: River has finished or cancelled the process's jobs.
UPDATE processes SET stopped_at = now() WHERE id = $1;

-- name: process_prune
-- Processes gone for a day are forgotten.
DELETE FROM processes WHERE coalesce(stopped_at, heartbeat_at) < now() - interval '1 day';

-- name: orphaned_jobs
-- Running jobs whose last attempt belongs to a process that stopped or
-- whose heartbeat is older than $1: nobody works them. river_job is only
-- read and locked here (SKIP LOCKED: two sweeping processes never take
-- the same job); River's own driver statement rescues them.
SELECT j.id, j.attempt, j.max_attempts, p.id FROM river_job j
JOIN processes p ON p.id = j.attempted_by[array_upper(j.attempted_by, 1)]
WHERE j.state = 'running' AND (p.stopped_at IS NOT NULL OR p.heartbeat_at < now() - $1::interval)
ORDER BY j.id
FOR UPDATE OF j SKIP LOCKED;

-- name: processes_ended
-- How many of the processes $1 are known to have ended: stopped, or
-- declared dead by a sweep (which fences them). A process that is only
-- late has not ended: its heartbeat may still come. The second column is
-- how long ago $2 (the current attempt's start) was, on the database's
-- clock.
SELECT (SELECT count(*) FROM processes WHERE id = ANY($1) AND stopped_at IS NOT NULL),
	now() - $2::timestamptz;
-- name: inbox_add
-- Contact events that may let their contacts into triggered campaigns
-- (journey_inbox), written in the events' transaction.
INSERT INTO journey_inbox (campaign_id, contact_id, event)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::jsonb[]);

-- name: inbox_claim
-- The oldest waiting rows, locked for this drain; rows another drainer
-- holds are skipped (several worker processes drain in parallel).
SELECT id, campaign_id, contact_id, event, attempts FROM journey_inbox
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED;

-- name: inbox_done
DELETE FROM journey_inbox WHERE id = ANY($1::bigint[]);

-- name: inbox_failed
UPDATE journey_inbox SET attempts = attempts + 1 WHERE id = ANY($1::bigint[]);

-- name: lock_entries
-- lock_entry for many contacts ($2, distinct), taken in id order so two
-- batches sharing contacts cannot deadlock.
SELECT pg_advisory_xact_lock(hashtextextended('campaign_entry/' || $1::bigint || '/' || id, 0))
FROM (SELECT DISTINCT unnest($2::bigint[]) AS id ORDER BY 1) AS c;

-- name: last_entries
-- last_entry for many contacts: each one's latest entry that counts for
-- re-entry.
SELECT DISTINCT ON (contact_id) contact_id, entered_at FROM campaign_entries
WHERE campaign_id = $1 AND contact_id = ANY ($2::bigint[]) AND status <> 'failed'
ORDER BY contact_id, entered_at DESC;

-- name: insert_entries
-- insert_entry for a batch of active entries at step $3; $5 holds each
-- one's event (transactions.id, NULL for none).
INSERT INTO campaign_entries (campaign_id, contact_id, entered_at, step, transaction_id, status, exit_reason, exited_at)
SELECT $1, u.contact_id, $2, $3, u.transaction_id, 'active', '', NULL
FROM unnest($4::bigint[], $5::bigint[]) AS u(contact_id, transaction_id)
RETURNING id, contact_id;

-- name: entries_lock
-- Locks the active entries among $1 in id order, for entries_done_if_idle
-- (a statement of its own, so that statement's snapshot sees what the
-- flush that held a lock committed).
SELECT id FROM campaign_entries WHERE id = ANY ($1::bigint[]) AND status = 'active' ORDER BY id FOR NO KEY UPDATE;

-- name: entries_done_if_idle
-- entry_done for many entries (rounds $1) at once, each only when none of
-- its deliveries waits to be sent (deliveries' round_pending). The caller
-- holds the entries' locks (entries_lock).
UPDATE campaign_entries e SET status = 'done'
WHERE e.id = ANY ($1::bigint[]) AND e.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.contact_id = e.contact_id AND d.campaign_id = e.campaign_id
                  AND d.round = e.id AND d.status IN ('queued', 'sending'));

-- name: outcome_log_add
-- One send flush's recipients and counts for the send fold (send_fold.go):
-- $1[i], $2[i] the campaign and contact of a recipient, $3 the flush's
-- time; $7[i] outcomes of metric $6[i] of step $5[i] of campaign $4[i];
-- $8 the contact of every delivery the flush made sent (their
-- contact_stats.sent, migration 052).
INSERT INTO send_outcome_log (campaign_ids, contact_ids, recorded_at, count_campaigns, count_steps, count_metrics, count_n, sent_contact_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: send_fold_take
-- Up to $1 of the oldest waiting flushes, taken out of the log in the
-- transaction that folds them (a rollback puts them back), when this
-- transaction holds the send fold's advisory lock (one fold at a time
-- across processes, so a fold takes all that waits; none when another
-- process's fold holds it). It also says, for the rest of the transaction,
-- that this fold adds the rows' counts and their contacts' sent counts:
-- migration 052's trigger refuses the deletion of a row with either
-- otherwise (an older peykar's fold). l is evaluated once, before the
-- first row is deleted, because the rows to delete depend on it.
WITH l AS (SELECT pg_try_advisory_xact_lock(hashtextextended('peykar/engine/send_fold', 0)) AS ok,
                  set_config('peykar.send_fold', 'stats', true) AS adds)
DELETE FROM send_outcome_log WHERE id IN (
    SELECT id FROM send_outcome_log WHERE (SELECT ok AND adds = 'stats' FROM l) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING campaign_ids, contact_ids, recorded_at, count_campaigns, count_steps, count_metrics, count_n, sent_contact_ids;

-- name: send_fold_pending
-- Whether any send outcome waits to be folded.
SELECT EXISTS (SELECT 1 FROM send_outcome_log);

-- name: outcomes_pending_for
-- Whether any send outcome of campaign $1 waits to be folded (the log is
-- small: what arrived since the last fold): a recipient, or a count (a
-- failure or skip names no recipient).
SELECT EXISTS (SELECT 1 FROM send_outcome_log WHERE $1 = ANY (campaign_ids) OR $1 = ANY (count_campaigns));
