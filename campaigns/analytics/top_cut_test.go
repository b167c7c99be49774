package analytics

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/segments"
)

// TestLikelyRespondersAreExactlyTheTopTenPercent: most contacts have no
// history and share the prior's score, so a threshold alone takes far more
// than 10% (the defect: 23%). The summary's list is exactly ceil(10%) of
// the active scored contacts, ties broken by id, and its segment rule
// selects exactly those contacts.
func TestLikelyRespondersAreExactlyTheTopTenPercent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(40, 4, "CASE WHEN c.id % 4 = 0 THEN 0.5 ELSE 0.1 END")
	// Raw on purpose: 373 quiet contacts in one set-based statement.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contacts (email, created_at)
		SELECT 'quiet' || g || '@example.com', $1 FROM generate_series(1, 373) g`, now.Add(-days(30)))
	require.NoError(t, err)
	_, err = Recompute(f.ctx, f.pool, Config{Now: now, Clusters: 3}, nil)
	require.NoError(t, err)

	var scored int64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM contact_scores s JOIN contacts c ON c.id = s.contact_id WHERE c.status = 'active'`).Scan(&scored))
	want := int64(math.Ceil(float64(scored) / 10))
	cut, err := TopCut(f.ctx, f.pool, 10)
	require.NoError(t, err)
	require.Equal(t, want, cut.Count)
	require.True(t, cut.Tied, "the generated data ties at the boundary")
	var atOrAbove int64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM contact_scores WHERE response_likelihood >= $1`, cut.MinScore).Scan(&atOrAbove))
	require.Greater(t, atOrAbove, 2*want, "a threshold alone would take far more than 10%%")

	sum, err := GetSummary(f.ctx, f.pool, 1000)
	require.NoError(t, err)
	lr := sum.LikelyResponders
	require.Equal(t, want, lr.Count)
	require.Len(t, lr.Items, int(want))
	// The list is the ranking's head: no contact outside it scores higher,
	// and the tied ones in it have the lowest ids.
	in := map[int64]bool{}
	for _, x := range lr.Items {
		in[x.ContactID] = true
	}
	rows, err := f.pool.Query(f.ctx, `SELECT s.contact_id FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
		WHERE c.status = 'active' ORDER BY s.response_likelihood DESC, s.contact_id LIMIT $1`, want)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		require.True(t, in[id], "contact %d ranks in the top 10%% but is not listed", id)
	}
	require.NoError(t, rows.Err())

	rule, err := segments.CompileSegment(lr.Rule)
	require.NoError(t, err, lr.Rule)
	n, err := segments.Count(f.ctx, f.pool, rule)
	require.NoError(t, err)
	require.Equal(t, want, n, "the rule %q selects the same contacts", lr.Rule)
}

// TestTopCutEqualsRanking: the cut found without ranking (counts per
// distinct score, then per block of ids) is the one ranking every active
// contact gives (the query top_cut), for cuts inside a tie, at its edges
// and at the extremes, with blocks of one id, of a few and of 8,192.
func TestTopCutEqualsRanking(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(150, 3, "CASE WHEN c.id % 5 = 0 THEN 0.6 ELSE 0.15 END")
	// Raw on purpose: quiet contacts (they share the prior's score) and
	// unsubscribed ones (outside every cut) in set-based statements.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO contacts (email, created_at, status)
		SELECT 'q' || g || '@example.com', $1, CASE WHEN g % 9 = 0 THEN 'unsubscribed' ELSE 'active' END
		FROM generate_series(1, 120) g`, now.Add(-days(30)))
	require.NoError(t, err)
	_, err = Recompute(f.ctx, f.pool, Config{Now: now, Clusters: 2}, nil)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE contacts SET status = 'bounced' WHERE id % 11 = 0 AND email LIKE 'p%'`)
	require.NoError(t, err)

	ties := 0
	for _, pct := range []float64{0.1, 1, 5, 10, 12.5, 33.3, 50, 75, 99.9, 100} {
		var want Cut
		require.NoError(t, f.pool.QueryRow(f.ctx, query("top_cut"), pct).Scan(&want.MinScore, &want.LastID, &want.Count, &want.Tied))
		if want.Tied {
			ties++
		}
		for _, block := range []int64{1, 7, cutBlock} {
			got, err := topCut(f.ctx, f.pool, pct, block)
			require.NoError(t, err)
			require.Equal(t, want, got, "top %g%% in blocks of %d", pct, block)
		}
	}
	require.Positive(t, ties, "some cuts fall inside a tie")
}

// TestTopCutEmpty: no scored contacts, no cut.
func TestTopCutEmpty(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cut, err := TopCut(f.ctx, f.pool, 10)
	require.NoError(t, err)
	require.Equal(t, Cut{}, cut)
}
