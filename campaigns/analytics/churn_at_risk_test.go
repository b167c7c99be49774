package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAtRiskMatchesSummaryAndRows: the dashboard's churn count is the
// summary's churn list count, and both are what the raw score rows give
// (risk at least ChurnThreshold, some value); so is the value at risk.
func TestAtRiskMatchesSummaryAndRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	before, err := AtRisk(f.ctx, f.pool)
	require.NoError(t, err)
	require.Equal(t, ChurnAtRisk{}, before, "no scores yet")

	f.plantResponses(200, 2, "0.1")
	// Raw on purpose: set-based purchases, recent for some buyers and long
	// ago for others, so both sides of the threshold are present.
	_, err = f.pool.Exec(f.ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at)
		SELECT c.id, 'purchase', 10 + c.id % 40, $1::timestamptz - make_interval(days => (c.id::int % 4) * 100 + n * 30 - 29)
		FROM contacts c, generate_series(1, 2) n WHERE c.id % 2 = 0`, now)
	require.NoError(t, err)
	_, err = Recompute(f.ctx, f.pool, Config{Now: now, Clusters: 2}, nil)
	require.NoError(t, err)

	got, err := AtRisk(f.ctx, f.pool)
	require.NoError(t, err)
	var rawCount int64
	var rawValue float64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*), coalesce(round(sum(value * churn_risk)::numeric, 2), 0)::float8
		FROM contact_scores WHERE churn_risk >= 0.5 AND value > 0`).Scan(&rawCount, &rawValue))
	var below int64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM contact_scores WHERE churn_risk < 0.5 AND value > 0`).Scan(&below))
	require.Positive(t, rawCount, "the scenario has customers at risk")
	require.Positive(t, below, "and customers who are not")
	require.Equal(t, rawCount, got.Count)
	require.InDelta(t, rawValue, got.ValueAtRisk, 0.01)
	require.NotNil(t, got.ComputedAt)

	sum, err := GetSummary(f.ctx, f.pool, 1)
	require.NoError(t, err)
	require.Equal(t, sum.ChurnRisk.Count, got.Count)
	require.InDelta(t, sum.ChurnRisk.ValueAtRisk, got.ValueAtRisk, 0.01)
}
