-- The deliveries package's statements on the deliveries table, by name.
-- Only this package writes deliveries; engine and tracking call it.

-- name: create
-- One row per (campaign, step, contact): re-running a launch page changes
-- nothing, and only the new rows' ids come back.
INSERT INTO deliveries (campaign_id, step, contact_id)
SELECT $1, $2, unnest($3::bigint[])
ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
RETURNING id;

-- name: create_round
-- create for one round of a triggered campaign (the entry's id, or a
-- message's): the same step can reach the contact again in another round.
INSERT INTO deliveries (campaign_id, step, contact_id, round)
SELECT $1, $2, unnest($3::bigint[]), $4
ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
RETURNING id;

-- name: skip_round
-- A contact's exit from one round of a triggered campaign: its rows not
-- sent yet are given up with reason $4.
UPDATE deliveries SET status = 'skipped', last_error = $4
WHERE contact_id = $2 AND campaign_id = $1 AND round = $3 AND status = 'queued'
RETURNING campaign_id, step, status, contact_id;

-- name: round_pending
-- Whether a round still has rows not sent (queued or being sent).
SELECT EXISTS (SELECT 1 FROM deliveries WHERE contact_id = $2 AND campaign_id = $1 AND round = $3
	AND status IN ('queued', 'sending'));

-- name: claim
-- Queued rows become the job's; a retry of the same job reclaims its own
-- rows left in sending only once they are stale ($3), since River may
-- rescue an attempt that is slow rather than dead. The same statement says
-- which contacts a rule's exit action took out of the campaign.
UPDATE deliveries d SET status = 'sending', sending_at = now(), attempts = attempts + 1, claimed_by = $1
WHERE id = ANY($2) AND (status = 'queued'
	OR (status = 'sending' AND claimed_by = $1 AND sending_at < now() - $3::interval))
RETURNING id, campaign_id, step, contact_id, attempts, round,
	EXISTS (SELECT 1 FROM campaign_exits x WHERE x.campaign_id = d.campaign_id AND x.contact_id = d.contact_id)
	OR (d.round > 0 AND EXISTS (SELECT 1 FROM campaign_entries e
		WHERE e.id = d.round AND e.campaign_id = d.campaign_id AND e.status = 'exited')),
	d.variant;

-- name: still_claimed
-- Rows among $1 that job $2 claimed and that are still sending: an earlier
-- attempt's, crashed or still running.
SELECT count(*) FROM deliveries WHERE id = ANY($1) AND status = 'sending' AND claimed_by = $2;

-- name: release
-- Rows job $1 claimed in one attempt ($2 ids with $3 the attempts each
-- claim left) that the attempt still holds after ending in an error:
-- queued again, so the job's retry claims them at once instead of after
-- the stale-claim wait. A row another attempt has claimed since carries a
-- higher attempts count and is left alone.
UPDATE deliveries d SET status = 'queued'
FROM unnest($2::bigint[], $3::int[]) AS v(id, attempts)
WHERE d.id = v.id AND d.status = 'sending' AND d.claimed_by = $1 AND d.attempts = v.attempts;

-- name: record
-- Outcomes of claimed rows, in one statement over arrays. 'held' (the
-- frequency cap) goes back to queued without the attempt counting. The
-- rows returned are what the caller counts in the rollups.
UPDATE deliveries d SET
	status = CASE WHEN v.status = 'held' THEN 'queued' ELSE v.status END,
	attempts = CASE WHEN v.status = 'held' THEN d.attempts - 1 ELSE d.attempts END,
	sent_at = CASE WHEN v.status IN ('sent', 'bounced') THEN $4 ELSE d.sent_at END,
	bounced_at = CASE WHEN v.status = 'bounced' THEN $4 ELSE d.bounced_at END,
	response = CASE WHEN v.status = 'sent' THEN v.detail ELSE d.response END,
	last_error = CASE WHEN v.status = 'sent' THEN '' ELSE v.detail END
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, status, detail)
WHERE d.id = v.id AND d.status = 'sending'
RETURNING d.campaign_id, d.step, d.status, d.contact_id;

-- name: skip_queued
-- Gives up a campaign's rows not sent yet: all ($2 null) or those among $2.
UPDATE deliveries SET status = 'skipped', last_error = $3
WHERE campaign_id = $1 AND status = 'queued' AND ($2::bigint[] IS NULL OR id = ANY($2))
RETURNING campaign_id, step, status, contact_id;

-- name: requeue_orphaned
-- Rows of send jobs that ended without sending them (discarded after their
-- last attempt, or cancelled) and that no other job has taken since.
-- claimed_by = 0 marks a row handed to a fresh job here, so the next sweep
-- leaves it alone. A send job's ids are packed in args->>'ids' (kind
-- send_packed, migration 051) or, enqueued by an older process, an array
-- in args->'delivery_ids' (kind send).
WITH dead AS (
	SELECT j.id AS job_id, (j.args->>'campaign_id')::bigint AS campaign_id, u.delivery_id
	FROM river_job j
	CROSS JOIN LATERAL unnest(CASE WHEN j.args ? 'ids' THEN unpack_delivery_ids(j.args->>'ids')
		ELSE ARRAY(SELECT jsonb_array_elements_text(j.args->'delivery_ids')::bigint) END) AS u(delivery_id)
	WHERE j.kind IN ('send', 'send_packed') AND j.state IN ('discarded', 'cancelled') AND j.finalized_at > now() - interval '8 days'
)
UPDATE deliveries d SET status = 'queued', claimed_by = 0
FROM dead, campaigns c
WHERE d.id = dead.delivery_id AND c.id = d.campaign_id AND c.status IN ('running', 'paused', 'finished')
	AND d.status IN ('queued', 'sending') AND (d.claimed_by IS NULL OR d.claimed_by = dead.job_id)
RETURNING d.campaign_id, d.id;

-- name: requeue_orphaned_messages
-- requeue_orphaned for transactional messages: the deliveries of message
-- and message-batch jobs that ended without recording them (discarded
-- after their last attempt, or cancelled), with each one's job arguments
-- (a message job's own, or its element of the batch's) for the caller to
-- enqueue a fresh message job each. Their campaigns always run.
WITH dead AS (
	SELECT j.id AS job_id, m.args
	FROM river_job j
	CROSS JOIN LATERAL jsonb_array_elements(
		CASE WHEN j.kind = 'message' THEN jsonb_build_array(j.args) ELSE j.args->'messages' END) AS m(args)
	WHERE j.kind IN ('message', 'message_batch') AND j.state IN ('discarded', 'cancelled')
		AND j.finalized_at > now() - interval '8 days'
)
UPDATE deliveries d SET status = 'queued', claimed_by = 0
FROM dead
WHERE d.id = (dead.args->>'delivery_id')::bigint
	AND d.status IN ('queued', 'sending') AND (d.claimed_by IS NULL OR d.claimed_by = dead.job_id)
RETURNING dead.args;

-- name: set_tracked
-- The tracking writer's batch: each changed row's status and firsts, as
-- the writer computed them under its row locks (one statement over arrays).
UPDATE deliveries d SET status = u.status, first_open_at = u.fo, first_machine_open_at = u.fmo,
	first_click_at = u.fc, first_machine_click_at = u.fmc, honeypot_at = u.hp, unsubscribed_at = u.un,
	bounced_at = u.bo, complained_at = u.comp, converted_at = u.conv
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
	$7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[])
	AS u(id, status, fo, fmo, fc, fmc, hp, un, bo, comp, conv)
WHERE d.id = u.id;

-- name: get
-- A delivery as the rules worker sees it.
SELECT id, campaign_id, contact_id, step, sent_at, round FROM deliveries WHERE id = $1;

-- name: sent_since
-- The contact's sends of the campaign after $3, latest first (the
-- frequency cap's window).
SELECT sent_at FROM deliveries WHERE contact_id = $1 AND campaign_id = $2
	AND sent_at > $3 ORDER BY sent_at DESC;

-- name: failure_reasons
-- Why the campaign's deliveries failed or were skipped, from at most $2 of
-- them: an index range scan, bounded whatever the campaign's size.
SELECT status, last_error, count(*) FROM (
	SELECT status, last_error FROM deliveries WHERE campaign_id = $1 AND status IN ('failed', 'skipped') LIMIT $2
) d GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2;

-- name: unopened
-- The sent deliveries among $1 never opened (a no_open timer's due ones).
SELECT d.id FROM deliveries d WHERE d.id = ANY($1) AND d.status = 'sent' AND d.first_open_at IS NULL;

-- name: unclicked
-- The sent deliveries among $1 never clicked (a no_click timer's).
SELECT d.id FROM deliveries d WHERE d.id = ANY($1) AND d.status = 'sent' AND d.first_click_at IS NULL;

-- name: unconverted
-- The sent deliveries among $1 without a purchase (a no_conversion timer's).
SELECT d.id FROM deliveries d WHERE d.id = ANY($1) AND d.status = 'sent'
	AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.delivery_id = d.id);

-- name: create_one
-- One delivery of a step to a contact in a round of its own (a
-- transactional message: round = the message's id); an existing one is
-- left alone and its id returned.
WITH ins AS (
	INSERT INTO deliveries (campaign_id, step, contact_id, round) VALUES ($1, $2, $3, $4)
	ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
	RETURNING id, true AS created)
SELECT id, created FROM ins
UNION ALL
SELECT id, false FROM deliveries WHERE campaign_id = $1 AND step = $2 AND contact_id = $3 AND round = $4
	AND NOT EXISTS (SELECT 1 FROM ins);

-- name: get_round
-- A delivery's status and times, as a transactional message's answer shows them.
SELECT status, attempts, last_error, queued_at, sent_at, bounced_at, first_open_at, first_click_at
FROM deliveries WHERE id = $1;

-- name: create_rounds
-- create_one for many transactional messages at once: row i is a delivery
-- of campaign $2[i] to contact $3[i] in round $4[i] (a new message's id,
-- so none exists yet); each new row's id comes back with its round.
INSERT INTO deliveries (campaign_id, step, contact_id, round)
SELECT v.c, $1, v.k, v.r FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS v(c, k, r)
ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
RETURNING id, round;

-- name: recent_sends
-- The frequency cap's look back, for a group of contacts at once: their
-- sends after $3, latest first per contact, of campaign $2 — or, when $2
-- is 0, of every campaign but the transactional ones (POST /messages is
-- exempt and not counted). deliveries_contact_campaign_idx finds each
-- contact's rows.
SELECT d.contact_id, d.sent_at FROM deliveries d
WHERE d.contact_id = ANY($1) AND d.sent_at > $3
	AND ($2::bigint = 0 OR d.campaign_id = $2)
	AND ($2::bigint <> 0 OR NOT EXISTS (SELECT 1 FROM campaigns c
		WHERE c.id = d.campaign_id AND c.transactional_template_id IS NOT NULL))
ORDER BY d.contact_id, d.sent_at DESC;

-- name: count_skipped_for
-- How many of the campaign's deliveries were skipped for reason $2 (the
-- frequency cap's count on the report): a range of the campaign's skipped
-- rows on deliveries_campaign_status_idx.
SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'skipped' AND last_error = $2;

-- name: create_variants
-- create with each contact's A/B test variant ($4, in the order of $3).
INSERT INTO deliveries (campaign_id, step, contact_id, variant)
SELECT $1, $2, c, v FROM unnest($3::bigint[], $4::text[]) AS x (c, v)
ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
RETURNING id;

-- name: variant_outcomes
-- Per variant of an A/B test's step: deliveries, sent, delivered (sent,
-- not bounced), the people among the delivered who opened, clicked
-- (humans) and converted, and the sum and sum of squares of each
-- delivered person's revenue in currency $3 (its attributed transactions).
WITH rev AS (
	SELECT delivery_id, sum(value)::float8 AS v FROM transactions
	WHERE campaign_id = $1 AND delivery_id IS NOT NULL AND upper(btrim(currency)) IN ($3, '')
	GROUP BY 1
)
SELECT d.variant, count(*), count(d.sent_at),
	count(*) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL),
	count(*) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL AND d.first_open_at IS NOT NULL),
	count(*) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL AND d.first_click_at IS NOT NULL),
	count(*) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL AND d.converted_at IS NOT NULL),
	coalesce(sum(rev.v) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL), 0),
	coalesce(sum(rev.v * rev.v) FILTER (WHERE d.sent_at IS NOT NULL AND d.bounced_at IS NULL), 0)
FROM deliveries d LEFT JOIN rev ON rev.delivery_id = d.id
WHERE d.campaign_id = $1 AND d.step = $2 AND d.variant <> '' AND d.round = 0
	-- the test group only: the remainder got the winner afterwards
	AND NOT EXISTS (SELECT 1 FROM ab_remainder r WHERE r.campaign_id = d.campaign_id AND r.contact_id = d.contact_id)
GROUP BY d.variant ORDER BY d.variant;

-- name: create_entry_rounds
-- create_round for many (contact, round) pairs at once: a batch of entries
-- into a triggered campaign, each contact in its own entry's round.
INSERT INTO deliveries (campaign_id, step, contact_id, round)
SELECT $1, $2, u.contact_id, u.round FROM unnest($3::bigint[], $4::bigint[]) AS u(contact_id, round)
ON CONFLICT (campaign_id, step, contact_id, round) DO NOTHING
RETURNING id;
