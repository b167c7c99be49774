package web

import (
	"slices"
	"time"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// The journey part of the campaign editor: how people enter, re-entry,
// exits and the end date (docs/journeys.md).

// commonEvents are offered in the event choices before any is recorded.
var commonEvents = []string{"signup", "purchase", "cart_abandoned"}

// eventChoices merges the recorded event types with the common ones.
func eventChoices(recorded []string) []string {
	out := append([]string(nil), commonEvents...)
	for _, t := range recorded {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// readJourney reads the journey fields into cp and returns the end date
// as typed. ends_at is read like scheduled_at (a Jalali date and time in
// Persian, on the user's clock).
func readJourney(v func(string) string, lc locale, tr func(string, ...any) string, cp *campaigns.Campaign, fail func(*errs.Error)) string {
	cp.Entry = campaigns.Entry{Type: v("entry.type"), Event: v("entry.event"), When: v("entry.when"), Delay: v("entry.delay")}
	if cp.Entry.Type == "" || cp.Entry.Type == campaigns.EntrySegment {
		// A blast: the journey fields left typed in the hidden part of
		// the form do not apply.
		cp.Entry = campaigns.Entry{Type: campaigns.EntrySegment}
	}
	if cp.Entry.Type != campaigns.EntryEvent {
		cp.Entry.Event = ""
	}
	switch mode := v("reentry"); mode {
	case "period":
		cp.Reentry = v("reentry.period")
		if cp.Reentry == "" {
			fail(errs.Field("reentry", "%s", tr("journey.period_missing")))
		}
	default:
		cp.Reentry = mode
	}
	cp.Exit = nil
	if !cp.Triggered() {
		return ""
	}
	if ev := v("exit.event"); ev != "" {
		cp.Exit = append(cp.Exit, campaigns.Exit{Event: ev, When: v("exit.when")})
	}
	if v("exit.segment_exit") != "" {
		cp.Exit = append(cp.Exit, campaigns.Exit{SegmentExit: true})
	}
	if g := v("exit.goal"); g != "" {
		cp.Exit = append(cp.Exit, campaigns.Exit{Goal: g})
	}
	ends := v("ends_at")
	if ends != "" {
		t, err := lc.ParseSchedule(ends)
		if err != nil {
			fail(errs.Field("ends_at", "%s", tr("campaign.schedule_invalid", lc.digits(lc.ScheduleLayout()))))
		} else {
			cp.EndsAt = &t
		}
	}
	return ends
}

// ReentryMode is the re-entry choice shown: never, always or period.
func (f campaignForm) ReentryMode() string {
	switch f.Reentry {
	case "", campaigns.ReentryNever:
		return campaigns.ReentryNever
	case campaigns.ReentryAlways:
		return campaigns.ReentryAlways
	}
	return "period"
}

// ReentryPeriod is the period typed, when the mode is period.
func (f campaignForm) ReentryPeriod() string {
	if f.ReentryMode() == "period" {
		return f.Reentry
	}
	return ""
}

// EventExit is the first event exit (zero when none).
func (f campaignForm) EventExit() campaigns.Exit {
	for _, x := range f.Exit {
		if x.Event != "" {
			return x
		}
	}
	return campaigns.Exit{}
}

// SegmentExit reports whether leaving the segment is an exit.
func (f campaignForm) SegmentExit() bool {
	return slices.ContainsFunc(f.Exit, func(x campaigns.Exit) bool { return x.SegmentExit })
}

// GoalExit is the goal whose reaching is an exit ("" when none).
func (f campaignForm) GoalExit() string {
	for _, x := range f.Exit {
		if x.Goal != "" {
			return x.Goal
		}
	}
	return ""
}

// endsValue shows a stored end date on the user's clock.
func endsValue(lc locale, t *time.Time) string { return lc.ScheduleValue(t) }
