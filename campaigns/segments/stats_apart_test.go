package segments

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// contact_stats read by a sequential scan comes in heap order, not id
// order: both lookups (the dense index, and sorting for sparse ids) keep
// each counter with its contact, and a contact with no row, inside or
// outside the ids' range, reads as zero counts and no last open.
func TestStatsByIDLooksUpInHeapOrder(t *testing.T) {
	t.Parallel()
	at := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	for _, scale := range []int64{10, 1e9} { // dense, then too sparse for the index
		s := &statsByID{
			ids:      []int64{3 * scale, 1 * scale, 2 * scale},
			opens:    []int32{3, 1, 2},
			lastOpen: []time.Time{at(3), at(1), at(2)},
		}
		s.index()
		require.Equal(t, scale == 10, s.at != nil, "scale %d", scale)
		require.Nil(t, s.sent, "a column the plan does not read stays unread")
		for k := int64(1); k <= 3; k++ {
			r := &envRow{id: k * scale, opens: 99, lastOpen: at(28)}
			s.fill(r)
			require.Equal(t, int(k), r.opens, "id %d", r.id)
			require.True(t, at(int(k)).Equal(r.lastOpen), "id %d", r.id)
		}
		for _, id := range []int64{scale + 1, 0, 4 * scale} {
			r := &envRow{id: id, opens: 99, lastOpen: at(28)}
			s.fill(r)
			require.Zero(t, r.opens, "id %d", id)
			require.True(t, r.lastOpen.IsZero(), "id %d", id)
		}
	}
}
