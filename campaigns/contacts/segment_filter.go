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

// StatsJoin goes right after "FROM contacts c" in every query that takes
// a segment's SQL (its WHERE clause or its Go path's columns): it makes
// the contact's counters written per message and per event (contact_stats,
// off the wide contacts row so their updates stay HOT) readable as st.
// No row reads as zero counts (the segment SQL wraps them in COALESCE).
// A rule that reads no counter costs nothing: the join is to a primary
// key and nothing above it reads st, so PostgreSQL removes it; one that
// does gets a join the planner can hash over a whole scan, where a
// correlated lookup per contact measured ≈ 1 s for 100,000 contacts.
const StatsJoin = " LEFT JOIN contact_stats st ON st.contact_id = c.id"
