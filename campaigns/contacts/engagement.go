package contacts

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// Engagement is what a batch of tracked events adds to contacts' stats,
// one entry per contact (parallel slices, sorted by ID so concurrent
// batches lock rows in one order).
type Engagement struct {
	IDs       []int64
	Opens     []int32
	Clicks    []int32
	LastOpen  []*time.Time
	LastClick []*time.Time
}

// QueueEngagement queues, on b, the statement adding e to the contacts'
// opens and clicks and moving their last_open_at and last_click_at
// forward. The tracking writer queues it in its batch, so it costs no
// round trip of its own. Nothing is queued for an empty e.
func QueueEngagement(b *pgx.Batch, e Engagement) {
	if len(e.IDs) == 0 {
		return
	}
	b.Queue(query("bump_engagement"), e.IDs, e.Opens, e.Clicks, e.LastOpen, e.LastClick)
}

// QueueStatus queues, on b, raising each contact ids[i] to statuses[i]
// (unsubscribed, bounced, complained). A status never goes down (active <
// unsubscribed < bounced < complained) and an erased contact stays erased.
// Nothing is queued for empty ids.
func QueueStatus(b *pgx.Batch, ids []int64, statuses []string) {
	if len(ids) == 0 {
		return
	}
	b.Queue(query("raise_status"), ids, statuses)
}
