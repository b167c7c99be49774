package holdout

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The hash holds out about share of any run of contact ids, within the
// binomial range, independently per campaign, and never with share 0.
func TestHeldShare(t *testing.T) {
	t.Parallel()
	const n = 20000
	for _, share := range []float64{0.01, 0.1, 0.25, 0.5} {
		for _, campaign := range []int64{1, 2, 977} {
			held := 0
			for id := int64(1); id <= n; id++ {
				if Held(campaign, id, share) {
					held++
				}
			}
			sd := math.Sqrt(n * share * (1 - share))
			require.InDelta(t, n*share, float64(held), 4*sd, "share %v campaign %d", share, campaign)
		}
	}
	for id := int64(1); id <= 1000; id++ {
		require.False(t, Held(1, id, 0))
		require.Equal(t, Held(5, id, 0.3), Held(5, id, 0.3), "deterministic")
	}
	// Two campaigns hold out different people.
	same := 0
	for id := int64(1); id <= n; id++ {
		if Held(1, id, 0.5) == Held(2, id, 0.5) {
			same++
		}
	}
	require.InDelta(t, n/2, same, 4*math.Sqrt(n/4.0))
}

// A larger share holds out a superset: raising it never releases anyone.
func TestHeldMonotone(t *testing.T) {
	t.Parallel()
	for id := int64(1); id <= 5000; id++ {
		if Held(3, id, 0.1) {
			require.True(t, Held(3, id, 0.2), "contact %d", id)
		}
	}
}
