package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// scoreSQL computes RFM, value and churn risk for every contact that is not
// erased, in one set-based query. $1 now, $2 default τ (days), $3 prior
// gaps, $4 min tenure (days), $5 horizon (days), $6 the segment grid, $7
// the currency of money (Config.Currency).
//
// Frequency and recency count every purchase; monetary (and so the value)
// sums only the amounts in $7 or posted without a currency: amounts in
// different currencies are never added (Peykar keeps no exchange rates).
//
// Money is summed as whole ten-thousandths (value is numeric(18,4)): the
// same exact sum as summing the numerics, with an aggregate state a quarter
// the size, so the per-buyer hash aggregate stays in work_mem at a million
// buyers instead of spilling.
//
// Quintiles are ntile(5) with ties sharing the lower score:
// 1 + floor(5·(rank−1)/n), which equals ntile(5) when values are distinct
// and keeps equal values (most buyers have one purchase) in one quintile.
const scoreSQL = `
WITH tx AS (
    SELECT t.contact_id, count(*)::int AS f,
           (coalesce(sum((t.value * 10000)::bigint) FILTER (WHERE upper(btrim(coalesce(t.currency, ''))) IN ($7, '')), 0) / 10000)::float8 AS m,
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
        coalesce(b.last_at, greatest(st.last_open_at, st.last_click_at, c.created_at)) AS last_at,
        CASE WHEN b.f IS NULL THEN $2::float8
             ELSE ((b.f - 1) * coalesce(b.gap, 0) + $3::float8 * pop.tau) / ((b.f - 1) + $3::float8) END AS tau
    FROM contacts c
    CROSS JOIN pop
    LEFT JOIN buyers b ON b.contact_id = c.id
    LEFT JOIN contact_stats st ON st.contact_id = c.id
    WHERE c.status <> 'erased'
),
churn AS (
    SELECT base.*,
        1 - exp(-greatest(extract(epoch FROM $1 - base.last_at)::float8 / 86400, 0) / greatest(base.tau, 0.01)) AS risk
    FROM base
)
SELECT id AS contact_id, coalesce(r, 0)::smallint AS rfm_recency, coalesce(fs, 0)::smallint AS rfm_frequency,
    coalesce(ms, 0)::smallint AS rfm_monetary,
    CASE WHEN r IS NULL THEN '' ELSE ($6::text[])[(r - 1) * 5 + (fs + ms + 1) / 2] END AS rfm_segment,
    f AS purchases, m AS monetary, last_at AS last_activity_at,
    round((m + CASE WHEN f = 0 THEN 0 ELSE
        (m / f) * f / greatest(extract(epoch FROM $1 - first_at)::float8 / 86400, $4::float8) * $5::float8 * (1 - risk)
    END)::numeric, 2)::float8 AS value,
    round(risk::numeric, 4)::float8 AS churn_risk,
    EXISTS (SELECT 1 FROM contact_scores cs WHERE cs.contact_id = churn.id) AS scored
FROM churn`

// scoreColumns are the columns scoreSQL yields besides contact_id.
const scoreColumns = `rfm_recency, rfm_frequency, rfm_monetary, rfm_segment, purchases, monetary, last_activity_at, value, churn_risk`

// newScores is the temporary table a scoring run computes into.
const newScores = "analytics_new_scores"

// workMem is the work_mem a recompute's transactions use: its hash
// aggregates and sorts over the whole base would otherwise spill to disk.
const workMem = "128MB"

// begin starts a transaction with a recompute's settings: work_mem, and no
// JIT compilation. A recompute's statements are planned above PostgreSQL's
// jit_inline_above_cost and jit_optimize_above_cost from about a million
// contacts on, and then each spends seconds inlining and optimising its
// expressions (the scores' statement: 8.3 s of JIT at 1M contacts, none of
// it at 100k, where the same plan runs below the thresholds), a cost that
// appears at one size and not the other and buys little for simple
// arithmetic over rows read once.
func begin(ctx context.Context, db DBTX) (pgx.Tx, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	for _, set := range []string{"SET LOCAL work_mem = '" + workMem + "'", "SET LOCAL jit = off"} {
		if _, err := tx.Exec(ctx, set); err != nil {
			_ = tx.Rollback(ctx)
			return nil, err
		}
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
	// Computed once into a temporary table (which also notes whether each
	// contact already has scores), then applied: an UPDATE, by hash join, of
	// the rows whose scores changed and an INSERT of the contacts not scored
	// yet. Cheaper than a speculative insert per row; and the INSERT must not
	// test for existing rows itself, as an anti-join against the table it is
	// filling would rescan the rows it has just added.
	if _, err := computeScores(ctx, tx, cfg); err != nil {
		return 0, err
	}
	set := []string{}
	for _, c := range strings.Split(scoreColumns, ", ") {
		set = append(set, c+" = n."+c)
	}
	upd, err := tx.Exec(ctx, `UPDATE contact_scores s SET `+strings.Join(set, ", ")+`, computed_at = $1
		FROM `+newScores+` n WHERE n.contact_id = s.contact_id
		  AND n.scored AND (`+prefixed("s.", scoreColumns)+`) IS DISTINCT FROM (`+prefixed("n.", scoreColumns)+`)`, cfg.Now)
	if err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	ins, err := tx.Exec(ctx, `INSERT INTO contact_scores (contact_id, `+scoreColumns+`, computed_at)
		SELECT n.contact_id, `+prefixed("n.", scoreColumns)+`, $1 FROM `+newScores+` n
		WHERE NOT n.scored
		ON CONFLICT (contact_id) DO NOTHING`, cfg.Now)
	if err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE `+newScores); err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	if _, err := tx.Exec(ctx, query("delete_gone_scores")); err != nil {
		return 0, fmt.Errorf("analytics: drop erased scores: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	return upd.RowsAffected() + ins.RowsAffected(), nil
}

// computeScores computes every non-erased contact's RFM, value and churn
// into the temporary table newScores (dropped at commit), analyzed, and
// returns how many rows it holds.
func computeScores(ctx context.Context, tx pgx.Tx, cfg Config) (int64, error) {
	tag, err := tx.Exec(ctx, `CREATE TEMP TABLE `+newScores+` ON COMMIT DROP AS `+scoreSQL,
		cfg.Now, cfg.DefaultTauDays, cfg.PriorGaps, cfg.MinTenureDays, cfg.HorizonDays, segmentGrid(), cfg.Currency)
	if err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE `+newScores); err != nil {
		return 0, fmt.Errorf("analytics: score contacts: %w", err)
	}
	return tag.RowsAffected(), nil
}

// prefixed qualifies each of a comma-separated column list.
func prefixed(p, cols string) string {
	return p + strings.ReplaceAll(cols, ", ", ", "+p)
}
