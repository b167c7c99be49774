package tracking

import "time"

// clickedSinceMargin is how much earlier than a delivery's firsts its
// click events may be: the firsts are the times of the first click events
// recorded, but two batches committing at once may record an earlier click
// after a later one (seconds apart, within BatchTimeout). A day is far more
// than that and still prunes every older month.
const clickedSinceMargin = 24 * time.Hour

// clickedSince is, for each delivery of ids (already clicked: a first click
// or honeypot time is set), a time none of its click events is older
// than: the earliest of its firsts, less clickedSinceMargin. The
// clicked_links read bounds occurred_at by it, so PostgreSQL probes only
// the months of events from then on.
func clickedSince(st *batchState, ids []int64) []time.Time {
	out := make([]time.Time, len(ids))
	for i, id := range ids {
		var first time.Time
		if d := st.dels[id]; d != nil {
			for _, t := range []*time.Time{d.firstClick, d.firstMClick, d.honeypot} {
				if t != nil && (first.IsZero() || t.Before(first)) {
					first = *t
				}
			}
		}
		if first.IsZero() {
			continue // zero time: no bound (every month is read)
		}
		out[i] = first.Add(-clickedSinceMargin)
	}
	return out
}
