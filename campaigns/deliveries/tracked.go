package deliveries

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// Tracked is the columns the tracking writer keeps of a set of deliveries,
// one entry per delivery at the same index in every slice: the status and
// the firsts (nil: not happened). Columns, not rows, because the statement
// takes them as arrays and the writer fills them in one pass.
type Tracked struct {
	IDs               []int64
	Status            []string
	FirstOpen         []*time.Time
	FirstMachineOpen  []*time.Time
	FirstClick        []*time.Time
	FirstMachineClick []*time.Time
	Honeypot          []*time.Time
	Unsubscribed      []*time.Time
	Bounced           []*time.Time
	Complained        []*time.Time
	Converted         []*time.Time
}

// QueueSetTracked queues on b the statement that stores t, so the tracking
// writer sends it in the batch it already sends (no round trip of its
// own). An empty t queues nothing. The writer must hold the rows' locks.
func QueueSetTracked(b *pgx.Batch, t Tracked) {
	if len(t.IDs) == 0 {
		return
	}
	b.Queue(queries.Get("set_tracked"), t.IDs, t.Status, t.FirstOpen, t.FirstMachineOpen, t.FirstClick,
		t.FirstMachineClick, t.Honeypot, t.Unsubscribed, t.Bounced, t.Complained, t.Converted)
}
