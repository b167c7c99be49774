package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGroupRecorderRecordsEachOnce: concurrent requests are each recorded
// exactly once, in groups (one flush at a time), and each gets its own
// group's result.
func TestGroupRecorderRecordsEachOnce(t *testing.T) {
	t.Parallel()
	var g groupRecorder
	var mu sync.Mutex
	seen := map[int64]int{}
	var flushing, overlaps atomic.Int64
	groups := 0
	boom := errors.New("boom")
	flush := func(_ context.Context, batch []*recordReq) error {
		if flushing.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer flushing.Add(-1)
		mu.Lock()
		groups++
		failed := false
		for _, r := range batch {
			seen[r.messageID]++
			failed = failed || r.messageID%100 == 7
		}
		mu.Unlock()
		if failed {
			return boom
		}
		return nil
	}
	const n = 400
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.record(context.Background(), flush, &recordReq{messageID: int64(i)})
		}()
	}
	wg.Wait()
	require.Len(t, seen, n)
	for id, k := range seen {
		require.Equal(t, 1, k, "message %d", id)
	}
	for i, err := range errs {
		if i%100 == 7 {
			require.ErrorIs(t, err, boom, "a failed group's requests see its error")
		}
	}
	require.Zero(t, overlaps.Load(), "one group at a time")
	require.LessOrEqual(t, groups, n)
	require.False(t, g.flushing, "the recorder is idle after")
	require.Empty(t, g.pending)
}
