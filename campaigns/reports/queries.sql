-- The reports package's static queries. It owns no table: it reads
-- campaigns, contacts, deliveries, events and transactions for the
-- standard reports and exports. Statements whose column list is built in
-- Go (the deliveries export) stay in Go.

-- name: export_snapshot
-- The deliveries export reads events in a second transaction that shares
-- this one's snapshot.
SELECT pg_export_snapshot();

-- name: daily_new_contacts
-- Contacts added per UTC day in [$2, $3), of segment members $1 (NULL:
-- all contacts).
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM contacts
	WHERE ($1::bigint[] IS NULL OR id = ANY($1)) AND status <> 'erased' AND created_at >= $2 AND created_at < $3 GROUP BY 1;

-- name: campaign_ids
-- Launched campaigns, of segment $1 (NULL: all).
SELECT id FROM campaigns WHERE ($1::bigint IS NULL OR segment_id = $1) AND launched_at IS NOT NULL ORDER BY id;

-- name: daily_revenue
-- Revenue per UTC day and currency in [$1, $2), and the part of it
-- attributed to campaigns $4; with segment $3 only the segment's buyers.
SELECT to_char(t.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), t.currency,
	sum(t.value)::float8, coalesce(sum(t.value) FILTER (WHERE t.campaign_id = ANY($4)), 0)::float8
	FROM transactions t
	WHERE t.occurred_at >= $1 AND t.occurred_at < $2
	AND ($3::bigint IS NULL OR t.campaign_id = ANY($4) OR t.contact_id IN (SELECT contact_id FROM deliveries WHERE campaign_id = ANY($4)))
	GROUP BY 1, 2;
