package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
)

// TestMonetaryIsTheExactNumericSum: monetary is summed as whole
// ten-thousandths, which must equal the exact numeric sum of the amounts
// (a float sum would give 0.1 + 0.2 = 0.30000000000000004), up to the
// largest amounts numeric(18,4) holds.
func TestMonetaryIsTheExactNumericSum(t *testing.T) {
	t.Parallel()
	f := setup(t)
	small, large := f.contact(), f.contact()
	for i, v := range []float64{0.1, 0.2, 0.0001, 19.99} {
		factory.Transaction(t, f.pool, small, factory.Value(v), factory.OccurredAt(now.Add(-days(float64(10+i)))))
	}
	for i, v := range []float64{99999999999999.9, 12345678901234.5678, 0.0001} {
		factory.Transaction(t, f.pool, large, factory.Value(v), factory.OccurredAt(now.Add(-days(float64(10+i)))))
	}
	_, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	for _, id := range []int64{small, large} {
		var exact float64
		require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT sum(value)::float8 FROM transactions WHERE contact_id = $1`, id).Scan(&exact))
		require.Equal(t, exact, f.score(id).Monetary, "contact %d", id) // exact, not InDelta: that is the point
	}
	require.Equal(t, 20.2901, f.score(small).Monetary) // exact, not InDelta: that is the point
}

// TestRecomputeRunsWithoutJIT: a recompute's transactions and the summary's
// read turn JIT compilation off (it costs seconds per statement from about a
// million contacts on); the recompute keeps its work_mem.
func TestRecomputeRunsWithoutJIT(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tx, err := begin(f.ctx, f.pool)
	require.NoError(t, err)
	defer tx.Rollback(f.ctx)
	var jit, mem string
	require.NoError(t, tx.QueryRow(f.ctx, `SELECT current_setting('jit'), current_setting('work_mem')`).Scan(&jit, &mem))
	require.Equal(t, "off", jit)
	require.Equal(t, workMem, mem)
	require.NoError(t, tx.Rollback(f.ctx))

	rtx, err := readTx(f.ctx, f.pool)
	require.NoError(t, err)
	defer rtx.Rollback(f.ctx)
	require.NoError(t, rtx.QueryRow(f.ctx, `SELECT current_setting('jit')`).Scan(&jit))
	require.Equal(t, "off", jit)
}

func TestRenumber(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a = $3 AND (b > $4 OR c = $3)", renumber("a = $1 AND (b > $2 OR c = $1)", 2))
	require.Equal(t, "x", renumber("x", 5))
}
