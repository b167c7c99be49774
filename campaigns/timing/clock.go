package timing

import (
	"errors"
	"fmt"
	"time"
)

// ErrClock is returned for a local time of day that is not HH:MM (00:00
// to 23:59).
var ErrClock = errors.New("must be a time of day HH:MM such as 09:00")

// Clock is a local time of day in minutes after midnight.
type Clock int

// ParseClock parses "HH:MM" (24-hour, 00:00 to 23:59).
func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q: %w", s, ErrClock)
	}
	return Clock(t.Hour()*60 + t.Minute()), nil
}

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// of is the time of day of t in minutes after midnight, in t's location.
func of(t time.Time) Clock { return Clock(t.Hour()*60 + t.Minute()) }

// at is the instant at clock c on the calendar day of t in loc. A wall
// time that a daylight-saving change skips comes out one hour later (Go's
// time.Date normalisation), so it still exists.
func at(t time.Time, loc *time.Location, c Clock) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), int(c)/60, int(c)%60, 0, 0, loc)
}

// NextAt is the first instant at or after t when the wall clock in loc
// reads c: later the same local day, or the next day.
func NextAt(t time.Time, loc *time.Location, c Clock) time.Time {
	due := at(t, loc, c)
	if due.Before(t) {
		l := t.In(loc)
		due = time.Date(l.Year(), l.Month(), l.Day()+1, int(c)/60, int(c)%60, 0, 0, loc)
	}
	return due
}

// Quiet is a daily window of local time in which nothing is sent: from
// From (inclusive) to To (exclusive). From later than To wraps midnight
// (22:00 to 08:00); From equal to To is an empty window.
type Quiet struct {
	From, To Clock
}

// ParseQuiet parses a window's two ends (HH:MM each); the errors name
// which end is wrong.
func ParseQuiet(from, to string) (Quiet, error) {
	f, err := ParseClock(from)
	if err != nil {
		return Quiet{}, fmt.Errorf("from: %w", err)
	}
	t, err := ParseClock(to)
	if err != nil {
		return Quiet{}, fmt.Errorf("to: %w", err)
	}
	return Quiet{From: f, To: t}, nil
}

// contains reports whether time of day c is inside the window.
func (q Quiet) contains(c Clock) bool {
	switch {
	case q.From == q.To:
		return false
	case q.From < q.To:
		return c >= q.From && c < q.To
	default:
		return c >= q.From || c < q.To
	}
}

// Release is when a message due at t may go under the window in loc: t
// itself outside quiet hours, else the window's end (To, local time) —
// held, never dropped.
func (q Quiet) Release(t time.Time, loc *time.Location) time.Time {
	if !q.contains(of(t.In(loc))) {
		return t
	}
	return NextAt(t, loc, q.To)
}
