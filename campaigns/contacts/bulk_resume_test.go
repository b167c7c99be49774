package contacts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// crashingEraser fails the erasure of one contact, once: the process dies
// in the middle of that batch, after erasing the batch's earlier contacts.
// It counts its calls per contact, so the test can tell a redone batch from
// a resumed one.
type crashingEraser struct {
	mu      sync.Mutex
	crashAt int64
	calls   map[int64]int
}

var errCrash = errors.New("simulated crash")

func (e *crashingEraser) EraseEvents(ctx context.Context, tx pgx.Tx, id int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[id]++
	if id == e.crashAt {
		e.crashAt = 0
		return errCrash
	}
	return eventsNotHeld(ctx, tx, id)
}

// TestBulkResumesAfterCrash: a bulk erase (batches of 2 over 6 contacts)
// dies in the middle of its second batch. The first batch stays done, the
// second is rolled back whole (its first contact is not erased), and the
// resumed job starts after the first batch: every contact is erased, the
// first batch's contacts once, and the counts add up to the selection.
func TestBulkResumesAfterCrash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []int64
	for i := range 6 {
		ids = append(ids, b.mustCreate(t, ContactInput{Email: fmt.Sprintf("p%d@example.com", i)}))
	}
	in := BulkInput{Filter: &BulkFilter{Q: "example.com"}, Action: BulkErase}
	require.NoError(t, in.normalize())
	jobID, err := insertBulkJob(b.ctx, b.pool, in)
	require.NoError(t, err)

	eraser := &crashingEraser{crashAt: ids[3], calls: map[int64]int{}}
	w := &BulkWorker{Pool: b.pool, Events: eraser, BatchSize: 2}
	require.ErrorIs(t, w.Run(b.ctx, jobID), errCrash)

	j, err := GetBulkJob(b.ctx, b.pool, jobID)
	require.NoError(t, err)
	require.Equal(t, BulkRunning, j.Status)
	require.Equal(t, int64(6), *j.Total)
	require.Equal(t, int64(2), j.Done, "the first batch is committed")
	require.Equal(t, ids[1], j.cursor)
	require.Equal(t, 1, j.batches)
	var erased []int64
	rows, err := b.pool.Query(b.ctx, `SELECT id FROM contacts WHERE status = 'erased' ORDER BY id`)
	require.NoError(t, err)
	erased, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, ids[:2], erased, "the crashed batch left nothing behind (its first contact is not erased)")

	// The retried job: erased contacts no longer match the filter's search
	// (their address is gone), so only a resume from the cursor can count
	// the selection right.
	require.NoError(t, w.Run(b.ctx, jobID))
	j, err = GetBulkJob(b.ctx, b.pool, jobID)
	require.NoError(t, err)
	require.Equal(t, BulkFinished, j.Status)
	require.Equal(t, int64(6), *j.Total)
	require.Equal(t, int64(6), j.Done)
	require.Zero(t, j.Failed)
	require.Equal(t, 3, j.batches)
	for i, id := range ids {
		c, err := Get(b.ctx, b.pool, id)
		require.NoError(t, err)
		require.Equal(t, StatusErased, c.Status, "contact %d", i)
		require.True(t, strings.HasPrefix(c.Email, "erased-"))
	}
	require.Equal(t, map[int64]int{ids[0]: 1, ids[1]: 1, ids[2]: 2, ids[3]: 2, ids[4]: 1, ids[5]: 1}, eraser.calls,
		"the committed batch is not redone; the crashed one is redone once")

	// A finished job run again (a duplicate River job) changes nothing.
	require.NoError(t, w.Run(b.ctx, jobID))
	j2, err := GetBulkJob(b.ctx, b.pool, jobID)
	require.NoError(t, err)
	require.Equal(t, j.Done, j2.Done)
	require.Equal(t, j.batches, j2.batches)
}

// TestBulkConcurrentRunsShareTheWork: two runs of the same job at once (a
// rescued job and a late one) never do a batch twice: each batch is taken
// under the job row's lock at the committed cursor.
func TestBulkConcurrentRunsShareTheWork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 9 {
		b.mustCreate(t, ContactInput{Email: fmt.Sprintf("c%d@example.com", i)})
	}
	in := BulkInput{Filter: &BulkFilter{}, Action: BulkExport}
	require.NoError(t, in.normalize())
	jobID, err := insertBulkJob(b.ctx, b.pool, in)
	require.NoError(t, err)
	w := &BulkWorker{Pool: b.pool, BatchSize: 2}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = w.Run(b.ctx, jobID) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	j, err := GetBulkJob(b.ctx, b.pool, jobID)
	require.NoError(t, err)
	require.Equal(t, int64(9), j.Done)
	var sb strings.Builder
	require.NoError(t, WriteBulkExport(b.ctx, b.pool, jobID, func(p []byte) error { sb.Write(p); return nil }))
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	require.Len(t, lines, 10, "a header and each contact once:\n%s", sb.String())
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		email := strings.Split(l, ",")[1]
		require.False(t, seen[email], "%s twice", email)
		seen[email] = true
	}
}
