package engine

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestConcurrentFlushesSettleARoundOnce: two outcome flushes running at
// once (two flushers of a process, or two processes) each record one of
// an entry's two deliveries. Without the entries' lock each would see the
// other's delivery still sending and the entry would stay active for
// good; with it the second flush waits for the first's commit and marks
// the entry done.
func TestConcurrentFlushesSettleARoundOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var campaignID, contactID, entryID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('j', 'running') RETURNING id`).Scan(&campaignID))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ('r@example.com') RETURNING id`).Scan(&contactID))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaign_entries (campaign_id, contact_id, entered_at, step)
		VALUES ($1, $2, now(), 'a') RETURNING id`, campaignID, contactID).Scan(&entryID))
	var first, second int64
	for _, x := range []struct {
		step string
		id   *int64
	}{{"a", &first}, {"b", &second}} {
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, round, status, attempts)
			VALUES ($1, $2, $3, $4, 'sending', 1) RETURNING id`, campaignID, x.step, contactID, entryID).Scan(x.id))
	}
	// flush records delivery id as sent and settles the entry, as
	// recordBatches does, in tx.
	flush := func(tx pgx.Tx, id int64) error {
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'sent', sent_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		return markRoundsDone(ctx, tx, []int64{entryID})
	}

	a, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = a.Rollback(ctx) }()
	require.NoError(t, flush(a, first))

	b, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = b.Rollback(ctx) }()
	var bPID int
	require.NoError(t, b.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&bPID))
	bDone := make(chan error, 1)
	go func() {
		if err := flush(b, second); err != nil {
			bDone <- err
			return
		}
		bDone <- b.Commit(ctx)
	}()
	// The second flush either finishes (it did not wait: the entry stays
	// active, which the check below catches) or waits on a lock, the first's.
	var waiting bool
	require.Eventually(t, func() bool {
		select {
		case err := <-bDone:
			require.NoError(t, err)
			bDone <- nil
			return true
		default:
		}
		require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE pid = $1 AND wait_event_type = 'Lock')`, bPID).Scan(&waiting))
		return waiting
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, a.Commit(ctx))
	require.NoError(t, <-bDone)

	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM campaign_entries WHERE id = $1`, entryID).Scan(&status))
	require.Equal(t, "done", status, "the entry is settled once both its deliveries are sent")
	require.True(t, waiting, "the second flush waited for the first")
}
