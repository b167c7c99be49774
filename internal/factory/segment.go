package factory

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/segments"
)

// SegmentOption sets a field of the segment Segment creates.
type SegmentOption func(*segments.SegmentInput)

// SegmentName sets the segment's name (default: "everyone").
func SegmentName(name string) SegmentOption {
	return func(in *segments.SegmentInput) { in.Name = name }
}

// Rule sets the segment's predicate (default: "true", every contact).
func Rule(rule string) SegmentOption {
	return func(in *segments.SegmentInput) { in.Rule = rule }
}

// Segment creates a segment with segments.CreateSegment (so its rule must
// compile) and returns it.
func Segment(t testing.TB, db segments.DBTX, opts ...SegmentOption) segments.Segment {
	t.Helper()
	in := segments.SegmentInput{Name: "everyone", Rule: "true"}
	for _, o := range opts {
		o(&in)
	}
	s, err := segments.CreateSegment(context.Background(), db, in)
	require.NoError(t, err, "factory: create segment %s", in.Name)
	return s
}
