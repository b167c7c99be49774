package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSendRate checks the send rate on an injected clock: a campaign that
// began sending ten seconds ago at 2/s shows 2/s (not 20 sends over the
// whole 70-second window, 0.3/s, as the page once showed), a steady one
// shows its rate over the last interval, a burst above the throttle is
// capped, and one that stopped sending shows 0.
func TestSendRate(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 5, 1, 12, 30, 10, 0, time.UTC)
	cur := now.Truncate(time.Minute)
	prev, before := cur.Add(-time.Minute), cur.Add(-2*time.Minute)
	started := now.Add(-10 * time.Second)
	startedLong := now.Add(-time.Hour)
	for _, tc := range []struct {
		name     string
		sends    map[time.Time]int64
		started  *time.Time
		throttle float64
		want     float64
	}{
		{"began 10s ago at 2/s", map[time.Time]int64{cur: 20}, &started, 2, 2},
		{"began 10s ago, no throttle", map[time.Time]int64{cur: 20}, &started, 0, 2},
		{"began in the previous minute", map[time.Time]int64{prev: 40, cur: 20}, ptr(prev.Add(40 * time.Second)), 0, 2},
		{"steady 5/s", map[time.Time]int64{before: 300, prev: 300, cur: 50}, &startedLong, 0, 5},
		{"capped by the throttle", map[time.Time]int64{cur: 50}, &started, 2, 2},
		{"stopped sending", map[time.Time]int64{before: 300}, &startedLong, 0, 0},
		{"nothing sent", nil, nil, 2, 0},
	} {
		got := sendRate(tc.sends, now, tc.started, tc.throttle)
		require.InDelta(t, tc.want, got, 1e-9, tc.name)
	}
}

func ptr[T any](v T) *T { return &v }
