-- The monthly partitions of events (migration 038) and their upkeep
-- (partitions.go): what exists, what the default partition holds, and the
-- retention of the default partition's rows. The DDL (CREATE, ATTACH,
-- DROP of a month) names its table, so partitions.go builds it.

-- name: partitions_lock
-- One partition upkeep at a time across processes, until the transaction ends.
SELECT pg_advisory_xact_lock(123581131088280); -- "peykar" in ASCII, plus 38

-- name: partitions_list
-- events' partitions with their bounds (null for the default partition).
-- The bounds are read back as timestamptz in this session, so the session's
-- DateStyle and TimeZone that printed them also parse them.
SELECT c.relname::text, b.expr = 'DEFAULT',
    (regexp_match(b.expr, 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
    (regexp_match(b.expr, 'TO \(''([^'']+)''\)'))[1]::timestamptz
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
WHERE i.inhparent = 'events'::regclass
ORDER BY 3 NULLS FIRST;

-- name: default_rows_in
-- Whether the default partition holds events of [$1, $2).
SELECT EXISTS (SELECT 1 FROM events_default WHERE occurred_at >= $1 AND occurred_at < $2);

-- name: default_rows_capped
-- Rows in the default partition, counted up to $1 (a /metrics scrape stays cheap).
SELECT count(*) FROM (SELECT 1 FROM events_default LIMIT $1) d;

-- name: default_lock
-- No event lands in the default partition while its rows of a month move out.
LOCK TABLE events_default IN EXCLUSIVE MODE;

-- name: default_expire
-- Retention in the default partition, row by row (it should hold few).
DELETE FROM events_default WHERE occurred_at < $1;
