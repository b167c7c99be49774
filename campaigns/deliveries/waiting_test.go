package deliveries_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
)

// TestWaitingByStep: queued and sending rows count as waiting, per step;
// sent ones do not, and a step with none is absent.
func TestWaitingByStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 3)
	main, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)
	_, err = deliveries.Create(ctx, pool, cid, "offer", contacts[:2])
	require.NoError(t, err)
	_, err = deliveries.Claim(ctx, pool, 1, main[:2], time.Hour)
	require.NoError(t, err)
	_, err = deliveries.Record(ctx, pool, []deliveries.Outcome{{ID: main[0], Status: deliveries.Sent}}, time.Now())
	require.NoError(t, err)

	got, err := deliveries.WaitingByStep(ctx, pool, cid)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"main": 2, "offer": 2}, got, "main: one sending, one queued")

	_, err = deliveries.SkipQueued(ctx, pool, cid, nil, "cancelled")
	require.NoError(t, err)
	got, err = deliveries.WaitingByStep(ctx, pool, cid)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"main": 1}, got, "only the row still sending")
}
