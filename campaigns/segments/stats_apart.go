package segments

import (
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

// statsByID is contact_stats as of a snapshot, sorted by contact id, with
// only the columns a plan reads filled in.
type statsByID struct {
	ids                 []int64
	sent, opens, clicks []int32
	lastOpen, lastClick []time.Time
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
	// The primary key's order; a row per counted contact, a few bytes each.
	rows, err := tx.Query(ctx, q+` FROM contact_stats st ORDER BY st.contact_id`)
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
	return s, nil
}

// fill sets r's counters to contact r.id's: zero (and no last open or
// click) when it has no row, as statColumn's COALESCE reads it.
func (s *statsByID) fill(r *envRow) {
	i, ok := slices.BinarySearch(s.ids, r.id)
	if !ok {
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
