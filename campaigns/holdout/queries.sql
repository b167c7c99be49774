-- The holdout package's statements: campaign_holdouts (which it owns), and
-- reads of deliveries and transactions for the lift.

-- name: record
-- Records the members chosen among a page ($3: those the hash holds out,
-- $4: the whole page) and returns those of the page recorded before this
-- statement (a re-run page, or a share changed after the first walk): the
-- caller adds the ones it chose. Recorded members stay members.
WITH ins AS (
    INSERT INTO campaign_holdouts (campaign_id, contact_id, assigned_at)
    SELECT $1, c, $2 FROM unnest($3::bigint[]) AS c
    ON CONFLICT (campaign_id, contact_id) DO NOTHING
)
SELECT contact_id FROM campaign_holdouts WHERE campaign_id = $1 AND contact_id = ANY($4::bigint[]);

-- name: is_member
SELECT EXISTS (SELECT 1 FROM campaign_holdouts WHERE campaign_id = $1 AND contact_id = $2);

-- name: measure
-- Per group (held: the holdout; not held: people with a delivery of the
-- campaign), its size, the people with at least one conversion-type
-- transaction in [$2, $3), those transactions and their value in the
-- reporting currency ($4; '' counts as it). One probe of
-- transactions_contact_idx (contact_id, occurred_at) per person; the
-- audience never leaves the database.
WITH members AS (
    SELECT contact_id, true AS held FROM campaign_holdouts WHERE campaign_id = $1
    UNION ALL
    SELECT DISTINCT contact_id, false FROM deliveries WHERE campaign_id = $1
)
SELECT m.held, count(*), count(*) FILTER (WHERE t.n > 0),
    coalesce(sum(t.n), 0)::bigint, coalesce(sum(t.revenue), 0)::float8
FROM members m
CROSS JOIN LATERAL (
    SELECT count(*) AS n, coalesce(sum(value) FILTER (WHERE currency = $4 OR currency = ''), 0) AS revenue
    FROM transactions
    WHERE contact_id = m.contact_id AND occurred_at >= $2 AND occurred_at < $3 AND type = ANY($5::text[])
) t
GROUP BY m.held;
