-- The campaigns package's queries on campaign_experiments, ab_tests and
-- ab_remainder (which it owns): A/B tests' definitions and runs.

-- name: get_experiment
SELECT ab_test, variants FROM campaign_experiments WHERE campaign_id = $1;

-- name: save_experiment
INSERT INTO campaign_experiments (campaign_id, ab_test, variants) VALUES ($1, $2, $3)
ON CONFLICT (campaign_id) DO UPDATE SET ab_test = excluded.ab_test, variants = excluded.variants;

-- name: delete_experiment
DELETE FROM campaign_experiments WHERE campaign_id = $1;

-- name: start_ab_test
-- The first launch page starts the test; later pages (and re-runs) keep it.
INSERT INTO ab_tests (campaign_id, step, started_at, ends_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (campaign_id) DO NOTHING;

-- name: add_remainder
INSERT INTO ab_remainder (campaign_id, contact_id) SELECT $1, unnest($2::bigint[])
ON CONFLICT DO NOTHING;

-- name: get_ab_test
SELECT step, started_at, ends_at, winner, chosen_at, chosen_by, reason, remainder_done, remainder_sent_at,
	(SELECT count(*) FROM ab_remainder r WHERE r.campaign_id = t.campaign_id)
FROM ab_tests t WHERE campaign_id = $1;

-- name: due_ab_tests
-- Tests without a winner whose duration has passed at $1.
-- Manual tests wait for the marketer.
SELECT t.campaign_id FROM ab_tests t
WHERE t.winner = '' AND t.ends_at <= $1 AND NOT EXISTS (SELECT 1 FROM campaign_experiments e
	WHERE e.campaign_id = t.campaign_id AND e.ab_test->>'winner' = 'manual')
ORDER BY t.ends_at LIMIT 100;

-- name: choose_winner
-- Only the first choice counts: a test has one winner.
UPDATE ab_tests SET winner = $2, chosen_at = $3, chosen_by = $4, reason = $5
WHERE campaign_id = $1 AND winner = ''
RETURNING campaign_id;

-- name: remainder_page
SELECT r.contact_id FROM ab_remainder r JOIN ab_tests t USING (campaign_id)
WHERE r.campaign_id = $1 AND r.contact_id > t.remainder_cursor
ORDER BY r.contact_id LIMIT $2;

-- name: advance_remainder
UPDATE ab_tests SET remainder_cursor = greatest(remainder_cursor, $2),
	remainder_done = $3, remainder_sent_at = CASE WHEN $3 THEN $4::timestamptz END
WHERE campaign_id = $1;

-- name: remainder_pending
-- Whether the campaign still owes its remainder the winner: an A/B test
-- whose remainder is not sent and not empty.
SELECT EXISTS (SELECT 1 FROM ab_tests t WHERE t.campaign_id = $1 AND NOT t.remainder_done
	AND EXISTS (SELECT 1 FROM ab_remainder r WHERE r.campaign_id = $1));
