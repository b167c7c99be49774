package analytics

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// scoreSQL computes RFM, value and churn risk for every contact that is not
// erased, in one set-based statement. $1 now, $2 default τ (days), $3 prior
// gaps, $4 min tenure (days), $5 horizon (days), $6 the segment grid.
//
// Quintiles are ntile(5) with ties sharing the lower score:
// 1 + floor(5·(rank−1)/n), which equals ntile(5) when values are distinct
// and keeps equal values (most buyers have one purchase) in one quintile.
const scoreSQL = `
WITH tx AS (
    SELECT t.contact_id, count(*)::int AS f, sum(t.value)::float8 AS m,
           min(t.occurred_at) AS first_at, max(t.occurred_at) AS last_at
    FROM transactions t
    WHERE t.type IN ('purchase', 'conversion') AND t.occurred_at <= $1
    GROUP BY t.contact_id
),
buyers AS (
    SELECT tx.*,
        1 + floor(5 * (rank() OVER (ORDER BY tx.last_at) - 1)::float8 / count(*) OVER ())::int AS r,
        1 + floor(5 * (rank() OVER (ORDER BY tx.f) - 1)::float8 / count(*) OVER ())::int AS fs,
        1 + floor(5 * (rank() OVER (ORDER BY tx.m) - 1)::float8 / count(*) OVER ())::int AS ms,
        CASE WHEN tx.f > 1 THEN extract(epoch FROM tx.last_at - tx.first_at)::float8 / 86400 / (tx.f - 1) END AS gap
    FROM tx JOIN contacts c ON c.id = tx.contact_id AND c.status <> 'erased'
),
pop AS (
    SELECT coalesce(avg(gap) FILTER (WHERE gap > 0), $2::float8) AS tau FROM buyers
),
base AS (
    SELECT c.id, b.r, b.fs, b.ms, coalesce(b.f, 0) AS f, coalesce(b.m, 0) AS m, b.first_at,
        coalesce(b.last_at, greatest(c.last_open_at, c.last_click_at, c.created_at)) AS last_at,
        CASE WHEN b.f IS NULL THEN $2::float8
             ELSE ((b.f - 1) * coalesce(b.gap, 0) + $3::float8 * pop.tau) / ((b.f - 1) + $3::float8) END AS tau
    FROM contacts c
    CROSS JOIN pop
    LEFT JOIN buyers b ON b.contact_id = c.id
    WHERE c.status <> 'erased'
),
churn AS (
    SELECT base.*,
        1 - exp(-greatest(extract(epoch FROM $1 - base.last_at)::float8 / 86400, 0) / greatest(base.tau, 0.01)) AS risk
    FROM base
)
INSERT INTO contact_scores AS s (contact_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment,
    purchases, monetary, last_activity_at, value, churn_risk, computed_at)
SELECT id, coalesce(r, 0), coalesce(fs, 0), coalesce(ms, 0),
    CASE WHEN r IS NULL THEN '' ELSE ($6::text[])[(r - 1) * 5 + (fs + ms + 1) / 2] END,
    f, m, last_at,
    round((m + CASE WHEN f = 0 THEN 0 ELSE
        (m / f) * f / greatest(extract(epoch FROM $1 - first_at)::float8 / 86400, $4::float8) * $5::float8 * (1 - risk)
    END)::numeric, 2)::float8,
    round(risk::numeric, 4)::float8,
    $1
FROM churn
ON CONFLICT (contact_id) DO UPDATE SET
    rfm_recency = EXCLUDED.rfm_recency, rfm_frequency = EXCLUDED.rfm_frequency,
    rfm_monetary = EXCLUDED.rfm_monetary, rfm_segment = EXCLUDED.rfm_segment,
    purchases = EXCLUDED.purchases, monetary = EXCLUDED.monetary,
    last_activity_at = EXCLUDED.last_activity_at, value = EXCLUDED.value,
    churn_risk = EXCLUDED.churn_risk, computed_at = EXCLUDED.computed_at
WHERE (s.rfm_recency, s.rfm_frequency, s.rfm_monetary, s.rfm_segment, s.purchases, s.monetary,
       s.last_activity_at, s.value, s.churn_risk)
    IS DISTINCT FROM
      (EXCLUDED.rfm_recency, EXCLUDED.rfm_frequency, EXCLUDED.rfm_monetary, EXCLUDED.rfm_segment,
       EXCLUDED.purchases, EXCLUDED.monetary, EXCLUDED.last_activity_at, EXCLUDED.value, EXCLUDED.churn_risk)`

// workMem is the work_mem a recompute's transactions use: its hash
// aggregates and sorts over the whole base would otherwise spill to disk.
const workMem = "128MB"

// begin starts a transaction with a recompute's settings.
func begin(ctx context.Context, db DBTX) (pgx.Tx, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+workMem+"'"); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// ScoreContacts recomputes RFM scores and segments, customer value and churn
// risk for every contact that is not erased, and drops the scores of erased
// contacts, in one transaction. It returns how many rows it wrote
// (unchanged rows are skipped).
func ScoreContacts(ctx context.Context, db DBTX, cfg Config) (int64, error) {
	cfg = cfg.WithDefaults()
	tx, err := begin(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, scoreSQL, cfg.Now, cfg.DefaultTauDays, cfg.PriorGaps, cfg.MinTenureDays, cfg.HorizonDays, segmentGrid())
	if err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM contact_scores s USING contacts c
		WHERE c.id = s.contact_id AND c.status = 'erased'`); err != nil {
		return 0, fmt.Errorf("analytics: drop erased scores: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	return tag.RowsAffected(), nil
}
