package web

import (
	"context"

	"github.com/peykar/peykar/campaigns/segments"
)

// pickerSegments lists the segments a filter offers: the ones not
// archived, plus selected (the segment the page is filtered by, when it is
// archived and so not in the list), so a page reached by an old link still
// shows what it is filtered by.
func (u *UI) pickerSegments(ctx context.Context, limit int, selected int64) ([]segments.Segment, error) {
	segs, err := segments.ListSegmentsPage(ctx, u.Pool, 0, limit, false)
	if err != nil {
		return nil, err
	}
	if selected <= 0 {
		return segs, nil
	}
	for _, s := range segs {
		if s.ID == selected {
			return segs, nil
		}
	}
	s, err := segments.GetSegment(ctx, u.Pool, selected)
	if err != nil {
		return segs, nil //nolint:nilerr // an unknown selected segment is reported by the page's own read
	}
	return append(segs, s), nil
}
