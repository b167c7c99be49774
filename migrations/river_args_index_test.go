package migrations_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestRiverArgsIndexLeavesSendJobsOut holds migration 045: a send job's
// and a rule_timer job's arguments (their delivery ids) add nothing to
// River's GIN index on args, when inserted or when their state changes,
// while any other kind's still do; the index keeps River's name.
func TestRiverArgsIndexLeavesSendJobsOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pgstattuple")
	require.NoError(t, err)

	ids := make([]int64, 200)
	for i := range ids {
		ids[i] = int64(1000 + i)
	}
	args, err := json.Marshal(map[string]any{"campaign_id": 7, "delivery_ids": ids})
	require.NoError(t, err)

	// The GIN index takes new entries into its pending list (fastupdate),
	// so the list's tuple count says what an insert or update indexed.
	pending := func() int64 {
		t.Helper()
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT pending_tuples FROM pgstatginindex('river_job_args_index')").Scan(&n))
		return n
	}
	insert := func(kind string) int64 {
		t.Helper()
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state)
			VALUES ($1, $2, 25, 'default', 'available') RETURNING id`, args, kind).Scan(&id))
		return id
	}
	// A state change is not a HOT update (state is in River's fetch
	// index), so it indexes the row's args again.
	finish := func(id int64) {
		t.Helper()
		_, err := pool.Exec(ctx, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, id)
		require.NoError(t, err)
	}

	before := pending()
	for _, kind := range []string{"send", "rule_timer"} {
		finish(insert(kind))
	}
	require.Equal(t, before, pending(), "send and rule_timer jobs' args are not indexed")

	finish(insert("bulk"))
	require.Greater(t, pending(), before, "other kinds' args still are")
}
