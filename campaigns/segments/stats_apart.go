package segments

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// A parallel Go count over the counters reads contact_stats once, apart
// from contacts, instead of joining it in every part. The parts split
// contacts by block range (a TID range scan each), and a block range
// cannot bound contact ids, so each part's join hashed the whole of
// contact_stats: with two parts PostgreSQL built the same hash twice and
// a Go count over stats.opens cost 1.6–1.8× what it did with the counters
// on contacts (docs/benchmarks.md, "Segments over contact_stats"). Read
// once, in the parts' exported snapshot, the counters are looked up by id
// in Go as each contact is evaluated.

// statsByID is contact_stats as of a snapshot, with only the columns a
// plan reads filled in. Contact ids come from a sequence and are dense, so
// a lookup is an index into at (row of contact min+i, -1 for none); ids
// too sparse for that (at would be more than twice the rows) are sorted
// and searched instead.
type statsByID struct {
	ids                 []int64
	sent, opens, clicks []int32
	lastOpen, lastClick []time.Time
	min                 int64
	at                  []int32 // nil: ids is sorted, search it
}

// isStatCol says whether an envRow destination is a contact_stats column.
func isStatCol(c envCol) bool {
	switch c {
	case ecSent, ecOpens, ecClicks, ecLastOpen, ecLastClick:
		return true
	}
	return false
}

// statTargets are the contact_stats columns p reads, with their
// destinations, in envFields' order.
func (p goPlan) statTargets() (cols []string, targets []envTarget) {
	for _, f := range envFields {
		if isStatCol(f.dest) && (p.all || p.fields[f.name]) {
			cols = append(cols, "st."+statName(f.dest))
			targets = append(targets, envTarget{col: f.dest})
		}
	}
	return cols, targets
}

func statName(c envCol) string {
	switch c {
	case ecSent:
		return "sent"
	case ecOpens:
		return "opens"
	case ecClicks:
		return "clicks"
	case ecLastOpen:
		return "last_open_at"
	default:
		return "last_click_at"
	}
}

// readsStatsSQL matches SQL that reads the st alias of contacts.StatsJoin
// (a prefilter over the counters needs the join).
var readsStatsSQL = regexp.MustCompile(`(^|[^A-Za-z0-9_.])st\.`)

// loadStatsByID reads the columns of contact_stats that p reads (nil when
// it reads none) in tx's snapshot.
func loadStatsByID(ctx context.Context, tx pgx.Tx, p goPlan) (*statsByID, error) {
	cols, targets := p.statTargets()
	if len(cols) == 0 {
		return nil, nil
	}
	q := `SELECT st.contact_id`
	for _, c := range cols {
		q += ", " + c
	}
	// A sequential scan, sorted here when needed: the bumps update rows in
	// place and insert new ones wherever there is room, so the heap is not
	// in id order, and an index scan in key order read it ten times slower
	// (100,000 rows: 54–60 ms against 6 ms, correlation 0.1).
	rows, err := tx.Query(ctx, q+` FROM contact_stats st`)
	if err != nil {
		return nil, fmt.Errorf("read contact stats: %w", err)
	}
	s := &statsByID{}
	r := newEnvRow(goPlan{})
	targets = append([]envTarget{{col: ecID}}, targets...)
	err = eachEnvRow(rows, r, targets, 0, func([][]byte, *pgtype.Map) error {
		s.ids = append(s.ids, r.id)
		for _, t := range targets[1:] {
			switch t.col {
			case ecSent:
				s.sent = append(s.sent, int32(r.sent))
			case ecOpens:
				s.opens = append(s.opens, int32(r.opens))
			case ecClicks:
				s.clicks = append(s.clicks, int32(r.clicks))
			case ecLastOpen:
				s.lastOpen = append(s.lastOpen, r.lastOpen)
			case ecLastClick:
				s.lastClick = append(s.lastClick, r.lastClick)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read contact stats: %w", err)
	}
	s.index()
	return s, nil
}

// index makes s ready for lookups: the dense index when the ids allow it,
// else the rows sorted by id.
func (s *statsByID) index() {
	if len(s.ids) == 0 {
		return
	}
	lo, hi := slices.Min(s.ids), slices.Max(s.ids)
	if span := hi - lo + 1; span <= 2*int64(len(s.ids))+1024 {
		s.min, s.at = lo, make([]int32, span)
		for i := range s.at {
			s.at[i] = -1
		}
		for i, id := range s.ids {
			s.at[id-lo] = int32(i)
		}
		return
	}
	if !slices.IsSorted(s.ids) {
		s.sort()
	}
}

// row returns the index of contact id's row, or -1.
func (s *statsByID) row(id int64) int {
	if s.at != nil {
		if i := id - s.min; i >= 0 && i < int64(len(s.at)) {
			return int(s.at[i])
		}
		return -1
	}
	if i, ok := slices.BinarySearch(s.ids, id); ok {
		return i
	}
	return -1
}

// sort orders s by contact id, each column with its id.
func (s *statsByID) sort() {
	perm := make([]int32, len(s.ids))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int { return cmp.Compare(s.ids[a], s.ids[b]) })
	s.ids = permute(s.ids, perm)
	s.sent, s.opens, s.clicks = permute(s.sent, perm), permute(s.opens, perm), permute(s.clicks, perm)
	s.lastOpen, s.lastClick = permute(s.lastOpen, perm), permute(s.lastClick, perm)
}

// permute returns xs in the order perm gives (nil stays nil).
func permute[T any](xs []T, perm []int32) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, j := range perm {
		out[i] = xs[j]
	}
	return out
}

// fill sets r's counters to contact r.id's: zero (and no last open or
// click) when it has no row, as statColumn's COALESCE reads it.
func (s *statsByID) fill(r *envRow) {
	i := s.row(r.id)
	if i < 0 {
		r.sent, r.opens, r.clicks, r.lastOpen, r.lastClick = 0, 0, 0, time.Time{}, time.Time{}
		return
	}
	if s.sent != nil {
		r.sent = int(s.sent[i])
	}
	if s.opens != nil {
		r.opens = int(s.opens[i])
	}
	if s.clicks != nil {
		r.clicks = int(s.clicks[i])
	}
	if s.lastOpen != nil {
		r.lastOpen = s.lastOpen[i]
	}
	if s.lastClick != nil {
		r.lastClick = s.lastClick[i]
	}
}
