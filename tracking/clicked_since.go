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

// clickedRecentSpan is how much older than the latest bound of a batch's
// clicked deliveries a bound may be for its delivery to be read with the
// others in one index scan per month (clicked_links): at most two months
// before the future ones, whichever the batch.
const clickedRecentSpan = 31 * 24 * time.Hour

// clickedRead is the click history's reads: the recent deliveries read
// from bound on in one scan (clicked_links), and the older ones (bounds
// more than clickedRecentSpan before the latest, or none) probed one by
// one from their own bounds (clicked_links_each).
type clickedRead struct {
	recent     []int64
	bound      time.Time
	older      []int64
	olderSince []time.Time
}

// splitClicked divides ids, with their bounds since (clickedSince), into
// clickedRead's groups. The recent group's single bound is the earliest of
// its members': reading a delivery's clicks from before its own bound
// returns the same rows, since none is older than it.
func splitClicked(ids []int64, since []time.Time) clickedRead {
	var latest time.Time
	for _, t := range since {
		if t.After(latest) {
			latest = t
		}
	}
	r := clickedRead{recent: make([]int64, 0, len(ids))}
	cut := latest.Add(-clickedRecentSpan)
	for i, id := range ids {
		t := since[i]
		if t.IsZero() || t.Before(cut) {
			r.older = append(r.older, id)
			r.olderSince = append(r.olderSince, t)
			continue
		}
		r.recent = append(r.recent, id)
		if r.bound.IsZero() || t.Before(r.bound) {
			r.bound = t
		}
	}
	return r
}
