package reports

import (
	"slices"
	"time"

	"github.com/peykar/peykar/campaigns"
)

// View is what a report page shows beyond the report's own fields: the
// numbers that depend on the campaign's state, derived in one place for
// the live report page and the admin campaign page (docs/metrics.md,
// "Pages").
type View struct {
	// Sending is true while messages can go out now (running).
	Sending bool
	// Rate is the send rate in messages per second while sending, else 0.
	Rate float64
	// ETA is when the queue is expected to be empty; only while sending.
	ETA *time.Time
	// Left is what is still to be sent while the campaign runs, is paused
	// or scheduled; 0 once it is finished or cancelled.
	Left int64
	// FollowUps are deliveries still queued once the campaign is finished:
	// follow-up steps that rules scheduled for later (never "left").
	FollowUps int64
	// Steps are the per-step results in the campaign's step order.
	Steps []StepView
	// Timeline is the report's timeline without its last point when that
	// point is a partial interval (Partial holds it then).
	Timeline []campaigns.TimelinePoint
	// Partial is the current, incomplete interval, or nil.
	Partial *campaigns.TimelinePoint
}

// StepView is one step's results.
type StepView struct {
	Key     string
	Metrics campaigns.Metrics
}

// NewView derives the view of report r. order is the campaign's step keys
// in their order (steps in the report but not in order follow, by key).
func NewView(r campaigns.Report, order []string) View {
	v := View{Sending: r.Status == campaigns.StatusRunning}
	switch r.Status {
	case campaigns.StatusRunning, campaigns.StatusPaused, campaigns.StatusScheduled:
		v.Left = max(r.Progress.Remaining, 0)
	case campaigns.StatusFinished:
		v.FollowUps = max(r.Progress.Remaining, 0)
	}
	if v.Sending {
		v.Rate = r.Progress.Rate
		if v.Left > 0 {
			v.ETA = r.Progress.EstimatedFinish
		}
	}
	v.Steps = stepViews(r.Steps, order)
	v.Timeline = r.Timeline
	if n := len(r.Timeline); n > 0 && r.Timeline[n-1].Partial {
		last := r.Timeline[n-1]
		v.Partial, v.Timeline = &last, r.Timeline[:n-1]
	}
	return v
}

func stepViews(steps map[string]campaigns.Metrics, order []string) []StepView {
	out := make([]StepView, 0, len(steps))
	seen := map[string]bool{}
	for _, k := range order {
		if m, ok := steps[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, StepView{Key: k, Metrics: m})
		}
	}
	rest := make([]string, 0, len(steps))
	for k := range steps {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, StepView{Key: k, Metrics: steps[k]})
	}
	return out
}
