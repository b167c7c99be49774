package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecomputeRewritesNothingUnchanged: a second full recompute at the same
// reference time over the same data rewrites no contact_scores row in any
// step (each row keeps its xmin), so an unchanged contact costs a read, not a
// write; after one contact's purchase, that contact's row is rewritten.
func TestRecomputeRewritesNothingUnchanged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ids := make([]int64, 12)
	for i := range ids {
		ids[i] = f.contact()
		if i%3 != 0 {
			f.purchases(ids[i], float64(10*(i+1)), float64(5+i), float64(40+3*i))
		}
	}
	versions := func() map[int64]string {
		t.Helper()
		rows, err := f.pool.Query(f.ctx, `SELECT contact_id, xmin::text FROM contact_scores`)
		require.NoError(t, err)
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var id int64
			var x string
			require.NoError(t, rows.Scan(&id, &x))
			out[id] = x
		}
		require.NoError(t, rows.Err())
		return out
	}
	_, err := Recompute(f.ctx, f.pool, Config{Now: now}, nil)
	require.NoError(t, err)
	first := versions()
	require.Len(t, first, len(ids))

	res, err := Recompute(f.ctx, f.pool, Config{Now: now}, nil)
	require.NoError(t, err)
	require.Zero(t, res.Scored)
	require.Equal(t, first, versions(), "no step rewrote an unchanged row")

	f.purchases(ids[0], 25, 1)
	_, err = Recompute(f.ctx, f.pool, Config{Now: now}, nil)
	require.NoError(t, err)
	require.NotEqual(t, first[ids[0]], versions()[ids[0]], "the buyer's row was rewritten")
}
