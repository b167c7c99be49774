package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEachItemWrittenOnce: concurrent callers' items are each written
// exactly once, one write at a time, in groups no larger than Max, with a
// caller's items in one write, and each caller gets its own write's error.
func TestEachItemWrittenOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[int]int{}
	writeOf := map[int]int{}
	var writing, overlaps atomic.Int64
	writes, biggest := 0, 0
	boom := errors.New("boom")
	g := &Group[int]{Max: 10}
	g.Write = func(_ context.Context, items []int) error {
		if writing.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer writing.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		writes++
		biggest = max(biggest, len(items))
		failed := false
		for _, it := range items {
			seen[it]++
			writeOf[it] = writes
			failed = failed || it%1000 == 70
		}
		if failed {
			return boom
		}
		return nil
	}
	const callers = 300
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.Do(context.Background(), i*10, i*10+1) // two items, one unit
		}()
	}
	wg.Wait()
	require.Len(t, seen, 2*callers)
	for it, k := range seen {
		require.Equal(t, 1, k, "item %d", it)
	}
	for i := range callers {
		require.Equal(t, writeOf[i*10], writeOf[i*10+1], "a caller's items share a write")
		if i%100 == 7 {
			require.ErrorIs(t, errs[i], boom, "a failed write's callers see its error")
		}
	}
	require.Zero(t, overlaps.Load(), "one write at a time")
	require.LessOrEqual(t, biggest, 10)
	require.Zero(t, g.writing, "idle after")
	require.Empty(t, g.pending)
}

// TestPanicReachesEveryone: a write that panics fails its callers, and the
// next caller still gets a write.
func TestPanicReachesEveryone(t *testing.T) {
	t.Parallel()
	g := &Group[string]{}
	g.Write = func(_ context.Context, items []string) error {
		if items[0] == "bad" {
			panic("oops")
		}
		return nil
	}
	require.ErrorContains(t, g.Do(context.Background(), "bad"), "oops")
	require.NoError(t, g.Do(context.Background(), "good"))
}

// TestWritersOverlap: with Writers set, up to that many writes run at
// once, never more, and still each item is written exactly once.
func TestWritersOverlap(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[int]int{}
	var writing, most atomic.Int64
	release := make(chan struct{})
	g := &Group[int]{Writers: 3, Max: 7}
	g.Write = func(_ context.Context, items []int) error {
		n := writing.Add(1)
		defer writing.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release // every write waits until all callers have arrived
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			seen[it]++
		}
		return nil
	}
	const callers = 200
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, g.Do(context.Background(), i))
		}()
	}
	require.Eventually(t, func() bool { return g.Waiting() == callers-3 }, time.Minute, time.Millisecond,
		"three writers run, the rest wait")
	require.EqualValues(t, 3, writing.Load())
	close(release)
	wg.Wait()
	require.Len(t, seen, callers)
	for it, k := range seen {
		require.Equal(t, 1, k, "item %d", it)
	}
	require.EqualValues(t, 3, most.Load(), "never more than Writers at once")
	require.Zero(t, g.writing)
	require.Empty(t, g.pending)
}
