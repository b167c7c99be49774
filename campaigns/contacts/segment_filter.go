package contacts

import (
	"context"
	"time"
)

// SegmentFilter is a compiled segment as the contact list applies it.
// campaigns/segments' *Compiled implements it; contacts declares it because
// segments reads contacts and so cannot be imported here.
type SegmentFilter interface {
	// SQL returns the segment as a condition over contacts c at now, with
	// parameters numbered after base; ok is false when it runs in Go.
	SQL(now time.Time, base int) (where string, args []any, ok bool)
	// MatchingIDs returns up to limit ids (erased contacts aside) with id >
	// after that match at now, in id order.
	MatchingIDs(ctx context.Context, db DBTX, now time.Time, after int64, limit int) ([]int64, error)
}

// SegmentLoader compiles the stored segment id for GET
// /contacts?segment_id=, or gives errs.NotFound (segments.Filter is one).
type SegmentLoader func(ctx context.Context, db DBTX, id int64) (SegmentFilter, error)

// SendableSQL is true for a contacts row c that may be sent to (see
// IsSendable); the segment compiler's dynamic queries select it.
const SendableSQL = sendableSQL
