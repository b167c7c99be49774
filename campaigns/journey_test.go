package campaigns

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// welcomeJourney is an event-triggered campaign normalize accepts.
func welcomeJourney() Campaign {
	c := validCampaign()
	c.Entry = Entry{Type: EntryEvent, Event: "signup", When: `contact.attributes.plan != "test"`, Delay: "10m"}
	c.Reentry = "720h"
	c.Exit = []Exit{{Event: "purchase", When: "event.value > 0"}, {Goal: "opens"}}
	return c
}

// fieldErr returns the error of field among err's problems (errs.All).
func fieldErr(t *testing.T, err error, field string) *errs.Error {
	t.Helper()
	require.Error(t, err)
	for _, e := range errs.All(err) {
		if e.Field == field {
			return e
		}
	}
	var one *errs.Error
	if errors.As(err, &one) && one.Field == field {
		return one
	}
	t.Fatalf("no error for %s in %v", field, err)
	return nil
}

func TestJourneyDefaultsAndValidJourney(t *testing.T) {
	t.Parallel()
	bare := Campaign{Name: "bare"}
	require.NoError(t, bare.normalize())
	require.Equal(t, EntrySegment, bare.Entry.Type, "a blast by default")
	require.Equal(t, ReentryNever, bare.Reentry)
	require.NotNil(t, bare.Exit, "exit is [] in JSON, not null")
	require.False(t, bare.Triggered())

	c := welcomeJourney()
	require.NoError(t, c.normalize())
	require.True(t, c.Triggered())
	require.Equal(t, 10*time.Minute, c.EntryDelay())
	require.Equal(t, 720*time.Hour, c.ReentryPeriod())
	c.Reentry = ReentryAlways
	require.Equal(t, time.Duration(-1), c.ReentryPeriod())
}

func TestJourneyMistakesNameTheirField(t *testing.T) {
	t.Parallel()
	seg := int64(3)
	cases := []struct {
		name, field, message string
		change               func(c *Campaign)
	}{
		{"unknown entry type", "entry.type", "not an entry type", func(c *Campaign) { c.Entry.Type = "webhook" }},
		{"bad event name", "entry.event", "contact event type", func(c *Campaign) { c.Entry.Event = "Sign Up" }},
		{"no event", "entry.event", "contact event type", func(c *Campaign) { c.Entry.Event = "" }},
		{"bad delay", "entry.delay", "duration", func(c *Campaign) { c.Entry.Delay = "soon" }},
		{"negative delay", "entry.delay", "duration", func(c *Campaign) { c.Entry.Delay = "-1h" }},
		{"bad reentry", "reentry", "never", func(c *Campaign) { c.Reentry = "sometimes" }},
		{"zero reentry period", "reentry", "positive duration", func(c *Campaign) { c.Reentry = "0s" }},
		{"exit with two kinds", "exit[0]", "exactly one", func(c *Campaign) { c.Exit[0].Goal = "opens" }},
		{"empty exit", "exit[0]", "exactly one", func(c *Campaign) { c.Exit[0] = Exit{} }},
		{"bad exit event", "exit[0].event", "contact event type", func(c *Campaign) { c.Exit[0].Event = "PURCHASE" }},
		{"unknown goal", "exit[1].goal", `"revenue" is not a goal`, func(c *Campaign) { c.Exit[1].Goal = "revenue" }},
		{"segment exit without segment", "exit[0].segment_exit", "segment_id", func(c *Campaign) { c.Exit[0] = Exit{SegmentExit: true} }},
		{"when on a goal exit", "exit[1].when", "event exit only", func(c *Campaign) { c.Exit[1].When = "true" }},
		{"segment_entry without segment", "segment_id", "segment_entry", func(c *Campaign) { c.Entry = Entry{Type: EntrySegmentEntry} }},
		{"blast with exits", "exit", "triggered", func(c *Campaign) { c.Entry = Entry{Type: EntrySegment}; c.SegmentID = &seg }},
		{"blast with ends_at", "ends_at", "triggered", func(c *Campaign) {
			c.Entry, c.Exit = Entry{}, nil
			at := time.Now().Add(time.Hour)
			c.EndsAt = &at
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := welcomeJourney()
			tc.change(&c)
			e := fieldErr(t, c.normalize(), tc.field)
			require.Equal(t, errs.Invalid, e.Code)
			require.Contains(t, e.Message, tc.message)
		})
	}
}

// A `when` that does not compile is refused on save with its position.
func TestJourneyWhenIsCompiledWithItsPosition(t *testing.T) {
	t.Parallel()
	c := welcomeJourney()
	c.Entry.When = `contact.attributes.plan == "pro" && event.nope > 3`
	e := fieldErr(t, c.normalize(), "entry.when")
	require.Equal(t, 43, e.Position, "points at nope: %s", e.Message)

	c = welcomeJourney()
	c.Exit[0].When = `event.value >`
	e = fieldErr(t, c.normalize(), "exit[0].when")
	require.Positive(t, e.Position)

	c = welcomeJourney()
	c.Entry.When = `delivery.step == "main"` // rules' env, not the entry's
	e = fieldErr(t, c.normalize(), "entry.when")
	require.Contains(t, e.Message, "delivery")
}

func TestLaunchRefusesEndsAtInThePast(t *testing.T) {
	t.Parallel()
	c := welcomeJourney()
	past := time.Now().Add(-time.Minute)
	c.EndsAt = &past
	require.NoError(t, c.normalize(), "saving is fine: it may be edited")
	var p problems
	c.checkEndsAt(&p, time.Now())
	e := fieldErr(t, errs.Collect(p), "ends_at")
	require.Contains(t, e.Message, "in the past")
}
