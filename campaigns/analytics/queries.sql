-- The analytics package's static queries: it owns contact_scores, clusters,
-- response_models and campaign_anomalies and reads campaigns, contacts and
-- deliveries. Statements built from feature lists (scores, clusters'
-- assignment, the response model's temporary table) stay in Go.

-- name: drop_old_anomalies
-- Anomalies no longer found ($1, $2: the ones found now) are cleared.
DELETE FROM campaign_anomalies WHERE (campaign_id, metric) NOT IN
	(SELECT * FROM unnest($1::bigint[], $2::text[]));

-- name: store_anomalies
-- One round trip for every anomaly found: arrays unnested.
INSERT INTO campaign_anomalies (campaign_id, metric, value, mean, stddev, z, history, computed_at)
	SELECT u.*, $8::timestamptz FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::int[]) u
	ON CONFLICT (campaign_id, metric) DO UPDATE SET value = EXCLUDED.value, mean = EXCLUDED.mean,
	stddev = EXCLUDED.stddev, z = EXCLUDED.z, history = EXCLUDED.history, computed_at = EXCLUDED.computed_at;

-- name: delete_clusters
DELETE FROM clusters;

-- name: cluster_summaries
-- Per cluster, the raw features of its members at $1 (the run's clock),
-- for describing the cluster in words.
SELECT s.cluster_id, count(*),
	avg(greatest(extract(epoch FROM $1::timestamptz - coalesce(s.last_activity_at, c.created_at))::float8 / 86400, 0)),
	avg(s.purchases)::float8, avg(s.monetary), avg(least(coalesce(st.opens, 0)::float8 / greatest(st.sent, 1), 1)),
	avg(least(coalesce(st.clicks, 0)::float8 / greatest(st.sent, 1), 1))
	FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
	LEFT JOIN contact_stats st ON st.contact_id = s.contact_id WHERE s.cluster_id > 0
	GROUP BY 1 ORDER BY 1;

-- name: insert_cluster
INSERT INTO clusters (id, description, size, centroid, standard, computed_at)
	VALUES ($1, $2, $3, $4, $5, $6);

-- name: holdout_campaigns
-- The channel's n most recently launched campaigns that have sent
-- something: the hold-out set the model is evaluated on.
SELECT c.id, c.launched_at FROM campaigns c
	WHERE c.channel = $1 AND c.launched_at IS NOT NULL
	AND EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.sent_at IS NOT NULL)
	ORDER BY c.launched_at DESC, c.id DESC LIMIT $2;

-- name: summary
SELECT max(computed_at), count(*) FROM contact_scores;

-- name: rfm_grid
SELECT rfm_recency, rfm_frequency, count(*), coalesce(sum(value), 0)
	FROM contact_scores GROUP BY 1, 2;

-- name: rfm_segments
SELECT rfm_segment, count(*), coalesce(sum(value), 0) FROM contact_scores
	WHERE rfm_segment <> '' GROUP BY 1;

-- name: list_clusters
SELECT id, description, size, centroid, standard FROM clusters ORDER BY id;

-- name: list_models
SELECT channel, alpha, beta, evaluation, trained_at FROM response_models ORDER BY channel;

-- name: campaign_exists
-- Tells "no such campaign" from "no anomalies".
SELECT 1 FROM campaigns WHERE id = $1;

-- name: list_anomalies
SELECT campaign_id, metric, value, mean, stddev, z, history, computed_at
	FROM campaign_anomalies WHERE $1::bigint = 0 OR campaign_id = $1 ORDER BY campaign_id DESC, metric;

-- name: other_channels
SELECT DISTINCT channel FROM campaigns WHERE channel <> $1 ORDER BY 1;

-- name: store_model
INSERT INTO response_models (channel, alpha, beta, evaluation, trained_at)
	VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel) DO UPDATE SET alpha = EXCLUDED.alpha,
	beta = EXCLUDED.beta, evaluation = EXCLUDED.evaluation, trained_at = EXCLUDED.trained_at;

-- name: likelihood_percentile
-- The response likelihood above which the top percent of active
-- contacts lie ($1 is 1 - percent/100).
SELECT percentile_disc($1::float8) WITHIN GROUP (ORDER BY s.response_likelihood)
	FROM contact_scores s JOIN contacts c ON c.id = s.contact_id WHERE c.status = 'active';

-- name: delete_gone_scores
-- Erased contacts keep no scores.
DELETE FROM contact_scores s USING contacts c
	WHERE c.id = s.contact_id AND c.status = 'erased';

-- name: top_cut
-- The contact at the top-$1-percent cut by response likelihood, and
-- whether a lower-ranked contact ties its score, by ranking every contact:
-- the exact reference TopCut is tested against.
WITH ranked AS (
	SELECT s.response_likelihood AS score, s.contact_id,
	row_number() OVER (ORDER BY s.response_likelihood DESC, s.contact_id) AS rn,
	count(*) OVER () AS total
	FROM contact_scores s JOIN contacts c ON c.id = s.contact_id WHERE c.status = 'active')
	SELECT score, contact_id, rn,
	EXISTS (SELECT 1 FROM ranked r WHERE r.rn > ranked.rn AND r.score = ranked.score)
	FROM ranked WHERE rn = ceil(total * $1::float8 / 100);

-- name: top_cut_score
-- The top-$1-percent cut's boundary without ranking contacts: the active
-- scored contacts counted per distinct score, then a running sum from the
-- highest score down. The boundary score, how many contacts score above
-- it, how many score it, and the cut's size ceil(total × $1 / 100).
WITH g AS (
	SELECT s.response_likelihood AS score, count(*) AS n
	FROM contact_scores s JOIN contacts c ON c.id = s.contact_id WHERE c.status = 'active' GROUP BY 1),
k AS (SELECT ceil(sum(n)::bigint * $1::float8 / 100)::bigint AS k FROM g),
r AS (SELECT score, n, sum(n) OVER (ORDER BY score DESC)::bigint AS cum FROM g)
SELECT r.score, r.cum - r.n, r.n, k.k FROM r, k WHERE r.cum >= k.k ORDER BY r.score DESC LIMIT 1;

-- name: top_cut_blocks
-- The active contacts scored exactly $1, counted per block of $2 ids.
SELECT s.contact_id / $2::bigint AS b, count(*)
	FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
	WHERE c.status = 'active' AND s.response_likelihood = $1
	GROUP BY 1 ORDER BY 1;

-- name: top_cut_in_block
-- The ($4+1)-th active contact scored exactly $1 with an id in [$2, $3).
SELECT s.contact_id FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
	WHERE c.status = 'active' AND s.response_likelihood = $1 AND s.contact_id >= $2 AND s.contact_id < $3
	ORDER BY s.contact_id LIMIT 1 OFFSET $4;
