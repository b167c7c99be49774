package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSampleIgnoresRowOrder: the k-means sample of a large base is the same
// contacts whatever the physical order of the scores' rows (a copy written
// in reverse id order samples the same points), so a recompute over
// unchanged data fits the same clusters and rewrites no cluster_id; and
// another seed draws another sample.
func TestSampleIgnoresRowOrder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(400, 2, `0.2`)
	// Raw on purpose: varied engagement counters so the points differ.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contact_stats (contact_id, sent, opens, clicks) SELECT id, 20, id % 17, id % 5 FROM contacts`)
	require.NoError(t, err)
	_, err = ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `CREATE TABLE reversed_scores AS SELECT * FROM contact_scores ORDER BY contact_id DESC`)
	require.NoError(t, err)

	cfg := Config{Now: now, SampleSize: 60}.WithDefaults()
	a, err := sample(f.ctx, f.pool, cfg, "contact_scores")
	require.NoError(t, err)
	b, err := sample(f.ctx, f.pool, cfg, "reversed_scores")
	require.NoError(t, err)
	require.NotEmpty(t, a)
	require.LessOrEqual(t, len(a), 60)
	require.Equal(t, a, b, "the same sample whatever the row order")

	cfg.Seed = 2
	c, err := sample(f.ctx, f.pool, cfg, "contact_scores")
	require.NoError(t, err)
	require.NotEmpty(t, c)
	require.NotEqual(t, a, c, "another seed, another sample")
}
