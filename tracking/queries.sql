-- The tracking package's statements, by name: writes to the tables it owns
-- (events, rollups, rollup_totals, rollup_hours, campaign_people) and its
-- reads of other packages' tables. Writes to contacts and transactions go
-- through package contacts.

-- name: campaign_links
-- The recorded links of several campaign steps at once (LinkCache).
SELECT l.campaign_id, l.step, l.idx, l.url FROM campaign_links l
JOIN unnest($1::bigint[], $2::text[]) AS k(c, s) ON l.campaign_id = k.c AND l.step = k.s;

-- name: erase_contact_events
-- Through the contact's deliveries: events has no contact index (the
-- tracking writer's inserts would pay for it), deliveries has.
UPDATE events SET ip = NULL, user_agent = ''
WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1) AND contact_id = $1
  AND (ip IS NOT NULL OR user_agent <> '');

-- name: bounce_delivery
-- A bounce or complaint names an address: the delivery most recently sent to it.
SELECT d.id FROM deliveries d JOIN contacts c ON c.id = d.contact_id
WHERE c.email_key = lower($1) ORDER BY d.sent_at DESC NULLS LAST, d.id DESC LIMIT 1;

-- name: conversion_delivery_in_campaign
-- A conversion posted with its campaign: the contact's delivery of it, clicked first.
SELECT id FROM deliveries WHERE campaign_id = $1 AND contact_id = $2
    ORDER BY first_click_at DESC NULLS LAST, sent_at DESC NULLS LAST, id DESC LIMIT 1;

-- name: clicked_deliveries
-- A conversion without a campaign: the contact's human-clicked deliveries, latest click first, with their settings (conversion window).
-- Clicks still waiting to be folded (in event_inbox, or followed in events
-- above the watermark) count too, by their request's
-- user-agent verdict (the follower's timing rules have not run yet): a
-- purchase a moment after the click is attributed to it whether or not
-- the follower has folded it.
WITH clicks AS (
    SELECT e.delivery_id, e.occurred_at
    FROM deliveries d
    JOIN events e ON e.delivery_id = d.id AND e.type = 'click' AND NOT e.machine AND e.occurred_at <= $2
    WHERE d.contact_id = $1 AND d.first_click_at IS NOT NULL
    UNION ALL
    SELECT i.delivery_id, i.occurred_at
    FROM deliveries d
    JOIN event_inbox i ON i.delivery_id = d.id AND i.type = 'click' AND NOT i.machine AND i.occurred_at <= $2
    WHERE d.contact_id = $1
    UNION ALL
    -- followed clicks not yet folded (their delivery's first may not be
    -- set yet): the unfolded tail of events, read by its primary key
    -- between the watermark and the sequence's last value. Both bounds
    -- are needed: with the lower alone the planner expects a third of
    -- events (an open range on an unknown value) and scans every month.
    SELECT e.delivery_id, e.occurred_at
    FROM events e
    WHERE e.followed AND e.id > (SELECT id FROM tracking_watermark) AND e.id <= (SELECT last_value FROM events_id_seq)
        AND e.contact_id = $1 AND e.type = 'click' AND NOT e.machine AND e.occurred_at <= $2
)
SELECT k.delivery_id, c.settings, max(k.occurred_at) AS last
FROM clicks k
JOIN deliveries d ON d.id = k.delivery_id
JOIN campaigns c ON c.id = d.campaign_id
GROUP BY k.delivery_id, c.settings ORDER BY last DESC LIMIT 50;

-- name: first_step_remaining
-- Deliveries of the first step not yet settled (queued minus outcomes), from the rollups.
SELECT coalesce(sum(CASE WHEN metric = $2 THEN count ELSE -count END), 0)::bigint
FROM rollups WHERE campaign_id = $1 AND link_idx = -1 AND NOT machine
    AND metric = ANY ($3)
    AND step = (SELECT key FROM campaign_steps WHERE campaign_id = $1 ORDER BY position LIMIT 1);

-- name: outcome_totals
-- The campaign's send outcomes, from the totals.
SELECT metric, sum(count)::bigint FROM rollup_totals WHERE campaign_id = $1 AND link_idx = -1 AND NOT machine
    AND metric = ANY ($2)
GROUP BY metric;

-- name: sends_per_minute
-- Sends per minute since $2, for the progress rate.
SELECT r.bucket, sum(r.count)::bigint FROM campaign_steps s
    JOIN rollups r ON r.campaign_id = s.campaign_id AND r.step = s.key
WHERE s.campaign_id = $1 AND r.link_idx = -1 AND r.metric = ANY ($3) AND NOT r.machine
    AND r.bucket >= $2
GROUP BY r.bucket;

-- name: day_totals
-- The human day metrics of campaigns $1 in [$2, $3).
SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD'), metric, sum(count)::bigint, sum(value)::float8
FROM rollups
WHERE campaign_id = ANY($1) AND bucket >= $2 AND bucket < $3 AND NOT machine
    AND metric = ANY ($4)
GROUP BY 1, 2;

-- name: each_campaign_counters
-- Every campaign's headline counters, the metric names passed in.
SELECT c.id,
    coalesce(sum(r.count) FILTER (WHERE r.metric IN ($1, $2)), 0)::bigint AS sent,
    coalesce(sum(r.count) FILTER (WHERE r.metric IN ($2, $3)), 0)::bigint AS bounced,
    coalesce(sum(r.count) FILTER (WHERE r.metric = $4), 0)::bigint AS unsubscribes,
    coalesce(sum(r.count) FILTER (WHERE r.metric = $5 AND NOT r.machine), 0)::bigint AS unique_opens,
    coalesce(sum(r.count) FILTER (WHERE r.metric = $6 AND NOT r.machine), 0)::bigint AS unique_clicks
FROM campaigns c JOIN rollups r ON r.campaign_id = c.id
GROUP BY c.id
ORDER BY min(coalesce(c.launched_at, c.created_at)), c.id;

-- name: revenue_timeline
-- Revenue in the reporting currency ($3) per interval ($6: minute or hour).
SELECT date_trunc($6, bucket, 'UTC') AS at, sum(value)::float8 FROM rollups
WHERE campaign_id = $1 AND step = ANY ($2) AND link_idx = -1 AND metric = ANY ($3) AND NOT machine
    AND ($4::timestamptz IS NULL OR date_trunc($6, bucket, 'UTC') >= $4)
    AND ($5::timestamptz IS NULL OR date_trunc($6, bucket, 'UTC') < $5)
GROUP BY 1 HAVING sum(value) <> 0 ORDER BY 1;

-- name: clear_rollup_totals
-- RebuildTotals: the totals go, then are summed again from the rollups.
DELETE FROM rollup_totals WHERE campaign_id = $1;

-- name: clear_rollup_hours
-- RebuildTotals: the hours go, then are summed again from the rollups.
DELETE FROM rollup_hours WHERE campaign_id = $1;

-- name: rebuild_rollup_totals
-- The rollups summed over time.
INSERT INTO rollup_totals (campaign_id, step, link_idx, metric, machine, count, value)
SELECT campaign_id, step, link_idx, metric, machine, sum(count), sum(value) FROM rollups
WHERE campaign_id = $1 GROUP BY 1, 2, 3, 4, 5 HAVING sum(count) <> 0 OR sum(value) <> 0;

-- name: rebuild_rollup_hours
-- The human timeline metrics ($2) summed per hour.
INSERT INTO rollup_hours (campaign_id, metric, hour, count, value)
SELECT campaign_id, metric, date_trunc('hour', bucket, 'UTC'), sum(count), sum(value) FROM rollups
WHERE campaign_id = $1 AND NOT machine AND metric = ANY ($2)
GROUP BY 1, 2, 3 HAVING sum(count) <> 0 OR sum(value) <> 0;

-- name: rollup_totals
-- A campaign's totals, for its report.
SELECT step, link_idx, metric, machine, count, value::float8 FROM rollup_totals WHERE campaign_id = $1;

-- name: stored_verdict
-- How an event was classified.
SELECT machine, reason FROM events WHERE id = $1;

-- name: event_ids
-- Ids for the batch's events, taken before they are written so outcomes can name them.
SELECT nextval('events_id_seq') FROM generate_series(1, $1);

-- name: campaign_documents
-- The batch's campaigns: rules (which events enqueue rule jobs) and settings.
SELECT id, rules, settings FROM campaigns WHERE id = ANY($1);

-- name: clicked_links
-- Per clicked delivery, which links were clicked by people and by machines:
-- the batch's recently clicked deliveries ($1, clickedRead), read in one
-- index scan of each month from $2 (the earliest of their bounds) on: one
-- probe of the delivery index per id and month, the heap pages visited in
-- block order. Probing per delivery (clicked_links_each, used for all
-- before) cost 3-4 times as much: every delivery rescanned each month
-- after its bound, the empty future months and events_default included,
-- which run-time pruning has no upper bound to drop (auto_explain,
-- bench/tracking -explain; EXPLAIN ANALYZE of 633 deliveries: 8.6 ms
-- against 2.4). Both parameters are read through sub-selects, so every
-- plan, custom or generic, is the one the planner makes without their
-- values: the index scan, months pruned when the statement runs. With
-- the values known, a pooled connection's first custom plans scanned the
-- month's whole partition when its statistics were stale (auto_explain:
-- 650 ids, 50,387 rows filtered, 54 ms), and a bound that pruned months
-- at plan time made custom plans cheaper than the generic one, so the
-- statement was planned again on most calls.
-- A followed event (migration 053) is history once folded: up to $3, the
-- watermark before the fold's own events (the fold applies those itself),
-- or, for the writer ($3 null), the watermark committed. $3 is read
-- through a sub-select for the reason above.
SELECT delivery_id, link_idx, bool_or(NOT machine), bool_or(machine), max(occurred_at)
    FROM events WHERE delivery_id = ANY (CAST((SELECT $1::bigint[]) AS bigint[])) AND link_idx IS NOT NULL
        AND occurred_at >= (SELECT $2::timestamptz)
        AND (NOT followed OR id <= coalesce((SELECT $3::bigint), (SELECT id FROM tracking_watermark)))
    GROUP BY 1, 2;

-- name: clicked_links_each
-- clicked_links for deliveries clicked long before the batch's others
-- (clickedRead): each probes its months from its own bound $2 on, so one
-- old delivery does not make every recent one probe its year of months.
-- $3: as clicked_links'.
SELECT d.id, e.link_idx, bool_or(NOT e.machine), bool_or(e.machine), max(e.occurred_at)
    FROM unnest($1::bigint[], $2::timestamptz[]) d(id, since) CROSS JOIN LATERAL (
        SELECT link_idx, machine, occurred_at FROM events WHERE delivery_id = d.id AND link_idx IS NOT NULL
            AND occurred_at >= d.since AND (NOT followed OR id <= coalesce((SELECT $3::bigint), (SELECT id FROM tracking_watermark)))
        OFFSET 0) e -- OFFSET 0: one index probe per delivery, never a scan of events
    GROUP BY 1, 2;

-- name: insert_events
-- The batch's events in one statement over arrays, which pgx encodes far more cheaply than COPY rows.
INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, value, machine, reason, user_agent, ip, occurred_at)
SELECT id, d, c, s, ct, t, l, v::numeric, m, r, ua, NULLIF(ip, '')::inet, at
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::int[], $8::text[],
    $9::bool[], $10::text[], $11::text[], $12::text[], $13::timestamptz[]) AS u(id, d, c, s, ct, t, l, v, m, r, ua, ip, at);

-- name: reclassify_clicks
-- A delivery's human clicks in a burst or honeypot window become machine clicks.
-- type is compared as an expression (type || '') so that only
-- events_delivery_idx can serve the statement: on a month's partition with
-- stale statistics the planner ANDed the delivery's few entries with a
-- bitmap of every click of the month from events_campaign_idx (type alone,
-- its second column: 92,674 entries for 3 rows, auto_explain), a cost that
-- grows with the month's clicks. recount_clicks likewise.
UPDATE events SET machine = true, reason = $4
WHERE delivery_id = $1 AND type || '' = 'click' AND NOT machine AND occurred_at BETWEEN $2 AND $3
    AND (NOT followed OR id <= coalesce($5, (SELECT id FROM tracking_watermark)))
RETURNING link_idx, occurred_at;

-- name: recount_clicks
-- A reclassified delivery's clicks per link, human and machine, and the first of each.
SELECT link_idx, bool_or(NOT machine), bool_or(machine),
    min(occurred_at) FILTER (WHERE NOT machine), min(occurred_at) FILTER (WHERE machine)
FROM events WHERE delivery_id = $1 AND type || '' = 'click'
    AND (NOT followed OR id <= coalesce($2, (SELECT id FROM tracking_watermark)))
GROUP BY link_idx;

-- name: fold_rollups
-- foldSQL merges minute rows into the row at the start of their UTC hour:
-- TimelineMetrics' human rows with buckets in [$2, $3), every other row
-- with buckets before $3. The deleted and inserted rows carry the same sums
-- per hour, so it does not touch rollup_totals or rollup_hours.
WITH moved AS (
    DELETE FROM rollups WHERE campaign_id = $1 AND bucket < $3
        AND (bucket >= $2 OR metric <> ALL ($4) OR machine)
        AND bucket <> date_trunc('hour', bucket, 'UTC')
    RETURNING step, link_idx, metric, date_trunc('hour', bucket, 'UTC') AS hour, machine, count, value
), merged AS (
    INSERT INTO rollups AS r (campaign_id, step, link_idx, metric, bucket, machine, count, value)
    SELECT $1, step, link_idx, metric, hour, machine, sum(count), sum(value) FROM moved
    GROUP BY step, link_idx, metric, hour, machine
    ORDER BY step, link_idx, metric, hour, machine
    ON CONFLICT (campaign_id, step, link_idx, metric, bucket, machine)
        DO UPDATE SET count = r.count + EXCLUDED.count, value = r.value + EXCLUDED.value
)
SELECT count(*) FROM moved;

-- name: foldable_campaigns
-- foldableSQL lists the launched campaigns with minute rollup rows older
-- than $1 (the fold's until for the youngest).
SELECT c.id, c.launched_at FROM campaigns c
WHERE c.launched_at IS NOT NULL AND c.launched_at < $1
    AND EXISTS (SELECT 1 FROM rollups r WHERE r.campaign_id = c.id AND r.bucket < $1
        AND r.bucket <> date_trunc('hour', r.bucket, 'UTC'))
ORDER BY c.id;

-- name: people_insert
-- Creates the people rows that do not exist yet; people_lock then locks
-- them all in key order (deadlock-free: every writer locks the deliveries
-- first, then these rows in this order).
INSERT INTO campaign_people (campaign_id, contact_id)
    SELECT c, p FROM unnest($1::bigint[], $2::bigint[]) AS u(c, p) ORDER BY 1, 2
    ON CONFLICT (campaign_id, contact_id) DO NOTHING;

-- name: people_lock
SELECT 1 FROM campaign_people
    WHERE (campaign_id, contact_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))
    ORDER BY campaign_id, contact_id FOR NO KEY UPDATE;

-- name: people_upsert_lock
-- people_insert and people_lock in one statement, in key order: ON CONFLICT
-- DO UPDATE locks an existing row even when its WHERE leaves it unchanged,
-- in the NO KEY UPDATE mode people_lock takes (no key column is set).
INSERT INTO campaign_people AS p (campaign_id, contact_id)
    SELECT c, ct FROM unnest($1::bigint[], $2::bigint[]) AS u(c, ct) ORDER BY 1, 2
    ON CONFLICT (campaign_id, contact_id) DO UPDATE SET sent = p.sent WHERE false;

-- name: step_deliveries
-- Per step, the deliveries created and those without a final outcome yet
-- (created minus sent, refused, failed and skipped: queued, waiting out a
-- delay, or being sent), from the totals (the journey map's numbers).
SELECT step, coalesce(sum(count) FILTER (WHERE metric = $2), 0)::bigint,
    coalesce(sum(CASE WHEN metric = $2 THEN count ELSE -count END), 0)::bigint
FROM rollup_totals WHERE campaign_id = $1 AND link_idx = -1 AND NOT machine AND metric = ANY ($3)
GROUP BY step;

-- name: person
-- What one contact did in one campaign (a triggered campaign's goal exit).
SELECT sent, delivered, opened, clicked, unsubscribed, complained, converted
FROM campaign_people WHERE campaign_id = $1 AND contact_id = $2;
-- name: unsubscribe_scope
-- What an unsubscribe link of delivery $1 acts on: its contact, the
-- contact's status and the topics its campaign targets (none: the whole
-- email channel). deliveries, campaigns and contacts are read only.
SELECT d.contact_id, ct.status, c.topic_ids
FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id JOIN contacts ct ON ct.id = d.contact_id
WHERE d.id = $1;

-- name: inbox_campaigns
-- The campaigns' settings (UTM) the click path has not read recently.
SELECT id, settings FROM campaigns WHERE id = ANY($1);

-- name: clicks_lock
-- The request path's group commit takes its ids under this lock, shared
-- (group commits run side by side) and held to its commit: see follower.go.
SELECT pg_advisory_xact_lock_shared(hashtextextended('peykar/tracking/clicks', 0));

-- name: follower_bound_lock
-- The follower's bound: the same lock exclusively, in a transaction of its
-- own, granted once every group commit holding it has ended.
SELECT pg_advisory_xact_lock(hashtextextended('peykar/tracking/clicks', 0));

-- name: follower_bound
-- Under follower_bound_lock: the highest id handed out so far. Every
-- followed id up to it belongs to a group commit that has ended.
SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq;

-- name: clicks_insert
-- The request path's only write: the batch's clicks and opens whose
-- delivery exists (read, not locked) into events, marked followed (the
-- follower derives their state), each with an id from events' sequence
-- taken after clicks_lock. Returns each stored event's position in the
-- arrays (1-based), its id and its delivery's campaign and step; the CTE
-- is read twice, so it is computed once and both see the same ids.
WITH u AS MATERIALIZED (
    SELECT u.n, nextval('events_id_seq') AS id, u.d, u.t, u.l, u.url, u.m, u.r, u.ua, u.ip, u.at, d.campaign_id, d.step, d.contact_id
    FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::text[],
        $9::timestamptz[]) WITH ORDINALITY AS u(d, t, l, url, m, r, ua, ip, at, n)
    JOIN deliveries d ON d.id = u.d
), ins AS (
    INSERT INTO events (id, delivery_id, campaign_id, step, contact_id, type, link_idx, url, machine, reason, user_agent, ip, occurred_at, followed)
    SELECT id, d, campaign_id, step, contact_id, t, l, NULLIF(url, ''), m, r, ua, NULLIF(ip, '')::inet, at, true FROM u
)
SELECT n, id, campaign_id, step FROM u;

-- name: follower_lock
-- One follower folds at a time across processes, until its transaction
-- ends. Taken, the transaction says it is a fold that knows the watermark
-- (peykar.fold, to its end): migration 053's triggers let only such a fold
-- take event_inbox's rows and change the verdict of a followed event not
-- yet folded, not an older process's.
SELECT pg_try_advisory_xact_lock(hashtextextended('peykar/tracking/follower', 0))
    AND set_config('peykar.fold', 'watermark', true) = 'watermark';

-- name: follower_take
-- The oldest waiting events, up to $1, taken out of the inbox in the
-- transaction that folds them (a rollback puts them back).
DELETE FROM event_inbox WHERE id IN (SELECT id FROM event_inbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING id, delivery_id, type, link_idx, url, machine, reason, user_agent, host(ip), occurred_at;

-- name: follower_watermark
-- The highest followed event id folded (migration 053).
SELECT id FROM tracking_watermark;

-- name: follower_take_events
-- The oldest followed events above the watermark $1 and up to the bound
-- $3 (follower_bound: every one of them is visible or never will be), at
-- most $2.
SELECT id, delivery_id, type, link_idx, coalesce(url, ''), machine, reason, user_agent, host(ip), occurred_at
FROM events WHERE followed AND id > $1 AND id <= $3 ORDER BY id LIMIT $2;

-- name: follower_set_watermark
-- The fold's events are folded: committed with what they derive.
UPDATE tracking_watermark SET id = $1;

-- name: follower_verdicts
-- Followed events whose verdict the fold's timing rules changed (too
-- soon, bursts, honeypots): their stored row says what was counted.
UPDATE events e SET machine = u.m, reason = u.r
FROM unnest($1::bigint[], $2::timestamptz[], $3::bool[], $4::text[]) AS u(id, at, m, r)
WHERE e.id = u.id AND e.occurred_at = u.at;

-- name: follower_forget
-- Followed events the fold refuses (their link does not exist: answered
-- 404) leave events, so the raw rows equal what is counted.
DELETE FROM events WHERE id = ANY($1) AND followed;

-- name: follower_drop
-- The oldest waiting event, which the database refuses alone (a bug or a
-- value it cannot hold), leaves the inbox so the ones after it are folded; it is logged
-- (run under follower_lock: migration 053's trigger lets only a fold delete).
DELETE FROM event_inbox WHERE id = (SELECT min(id) FROM event_inbox) RETURNING id;

-- name: follower_drop_event
-- The same for the oldest followed event above the watermark: deleted,
-- and the watermark moved to it (run under follower_lock). Bounded above
-- by the sequence, as every read of the unfolded tail (clicked_deliveries).
WITH e AS (
    SELECT id FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark)
        AND id <= (SELECT last_value FROM events_id_seq) ORDER BY id LIMIT 1
), w AS (
    UPDATE tracking_watermark SET id = e.id FROM e
), gone AS (
    DELETE FROM events USING e WHERE events.id = e.id
)
SELECT id FROM e;

-- name: inbox_pending
-- Whether any event up to id $1 waits to be folded: in the inbox, or
-- followed above the watermark.
SELECT EXISTS (SELECT 1 FROM event_inbox WHERE id <= $1)
    OR EXISTS (SELECT 1 FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark) AND id <= $1);

-- name: erase_contact_inbox
-- The erased contact's events that wait to be folded lose their IP and user agent too.
UPDATE event_inbox SET ip = NULL, user_agent = ''
WHERE delivery_id IN (SELECT d.id FROM deliveries d WHERE d.contact_id = $1)
  AND (ip IS NOT NULL OR user_agent <> '');

-- name: inbox_oldest
-- How long the oldest click or open waiting to be folded has waited (null:
-- none): in the inbox or followed above the watermark (and up to the
-- sequence's last value, as clicked_deliveries: /metrics reads it on every
-- scrape).
SELECT extract(epoch FROM now() - least(
    (SELECT occurred_at FROM event_inbox ORDER BY id LIMIT 1),
    (SELECT occurred_at FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark)
        AND id <= (SELECT last_value FROM events_id_seq) ORDER BY id LIMIT 1)))::float8;

-- name: people_lock_state
-- A batch's people rows locked in key order (as people_lock) with the
-- state the batch's upward changes are joined with (people_fold.go).
SELECT campaign_id, contact_id, opened, clicked, unsubscribed, complained, converted FROM campaign_people
    WHERE (campaign_id, contact_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))
    ORDER BY campaign_id, contact_id FOR NO KEY UPDATE;

-- name: people_set_tracked
-- The new state of people rows locked by people_lock_state (only those
-- that change; each once). The GROUP BY (over distinct keys: it changes
-- nothing) makes the planner expect few rows and probe the key per row:
-- joined to the bare unnest it hashed the whole table (measured: a scan of
-- 100,000 rows for 1,350 updates).
UPDATE campaign_people p SET opened = u.o, clicked = u.cl, unsubscribed = u.un, complained = u.cm, converted = u.cv
FROM (SELECT c, ct, max(o) AS o, max(cl) AS cl, bool_or(un) AS un, bool_or(cm) AS cm, bool_or(cv) AS cv
    FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::smallint[], $5::bool[], $6::bool[], $7::bool[])
        AS x(c, ct, o, cl, un, cm, cv)
    GROUP BY c, ct) u
WHERE p.campaign_id = u.c AND p.contact_id = u.ct;
