package campaigns

import (
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/tracking"
)

// Timeline resolutions.
const (
	ResolutionMinute = "minute"
	ResolutionHour   = "hour"
)

const (
	// autoMinutes is the longest window the timeline shows per minute when
	// no resolution is asked for (at most 360 points).
	autoMinutes = 6 * time.Hour
	// maxMinutes is the longest window the timeline shows per minute at
	// all (1,440 points).
	maxMinutes = 24 * time.Hour
)

// ReportOptions choose the report's timeline. The zero value is the
// default: the whole campaign, per minute while it is at most six hours
// old and per hour after that, so the number of points (and the rows
// read) does not grow with the campaign's size.
type ReportOptions struct {
	// From and To bound the timeline to [From, To) (zero: the campaign's
	// first counted interval, now).
	From, To time.Time
	// Resolution is ResolutionMinute, ResolutionHour or "" (minutes for
	// windows of at most six hours, else hours). Minutes are available for
	// windows of at most a day; where older minute rollups were folded into
	// hours (tracking.FoldRollups), those intervals show as one point at
	// the hour.
	Resolution string
}

// timelineWindow is a checked ReportOptions.
type timelineWindow struct {
	from, to   *time.Time
	resolution string
}

// window checks o against campaign c at now and chooses the resolution.
func (o ReportOptions) window(c Campaign, now time.Time) (timelineWindow, error) {
	w := timelineWindow{resolution: o.Resolution}
	if !o.From.IsZero() {
		f := o.From.UTC()
		w.from = &f
	}
	if !o.To.IsZero() {
		t := o.To.UTC()
		w.to = &t
	}
	if w.from != nil && w.to != nil && !w.to.After(*w.from) {
		return w, errs.Field("to", "to (%s) must be after from (%s)", w.to.Format(time.RFC3339), w.from.Format(time.RFC3339))
	}
	start, end := now, now
	if w.from != nil {
		start = *w.from
	} else if c.LaunchedAt != nil {
		start = *c.LaunchedAt
	}
	if w.to != nil {
		end = *w.to
	}
	span := end.Sub(start)
	switch o.Resolution {
	case "":
		w.resolution = ResolutionHour
		if (w.from != nil || c.LaunchedAt != nil) && span <= autoMinutes {
			w.resolution = ResolutionMinute
		}
	case ResolutionHour:
	case ResolutionMinute:
		if w.from == nil && c.LaunchedAt == nil {
			return w, errs.Field("from", "a per-minute timeline of a campaign never launched needs from")
		}
		if span > maxMinutes {
			return w, errs.Field("resolution", "per-minute timelines span at most a day; this one spans %s (narrow from/to or use resolution=hour)", span.Round(time.Minute))
		}
	default:
		return w, errs.Field("resolution", "resolution %q is not one of minute, hour", o.Resolution)
	}
	if w.resolution == ResolutionMinute && w.from == nil {
		f := c.LaunchedAt.UTC().Truncate(time.Minute)
		w.from = &f
	}
	return w, nil
}

// queueTimeline adds the timeline queries to b (tracking.QueueTimeline):
// hours from rollup_hours, minutes from the
// rollups within a bounded window, then the revenue in the reporting
// currency (queueTimelineRevenue). Intervals with nothing drawn are left
// out.
func queueTimeline(b *pgx.Batch, c Campaign, r *Report, w timelineWindow) {
	r.Timeline = []TimelinePoint{}
	r.TimelineResolution = w.resolution
	var p *TimelinePoint
	add := func(row tracking.TimelineRow) {
		if p == nil || !p.At.Equal(row.At) {
			r.Timeline = append(r.Timeline, TimelinePoint{At: row.At.UTC()})
			p = &r.Timeline[len(r.Timeline)-1]
		}
		var c tracking.Counts // human rows only
		c.Add(row.Metric, false, row.Count, row.Value)
		p.Sends += c.AllSent()
		p.Opens += c.Opens.Total
		p.Clicks += c.Clicks.Total
		p.Conversions += c.Conversions
	}
	tracking.QueueTimeline(b, c.ID, w.from, w.to, w.resolution == ResolutionMinute, add, func() {
		kept := r.Timeline[:0]
		for _, p := range r.Timeline {
			if p.Sends != 0 || p.Opens != 0 || p.Clicks != 0 || p.Conversions != 0 {
				kept = append(kept, p)
			}
		}
		r.Timeline = kept
	})
	queueTimelineRevenue(b, c, r, w)
}

// queueTimelineRevenue adds to b the timeline's revenue: the reporting
// currency's only (plus revenue recorded without a currency, as in
// Metrics.Revenue), never a sum across currencies. rollup_hours keeps one
// all-currency revenue, so this reads the per-currency rollups
// (tracking.QueueRevenueTimeline).
func queueTimelineRevenue(b *pgx.Batch, c Campaign, r *Report, w timelineWindow) {
	steps := make([]string, len(c.Steps))
	for i, st := range c.Steps {
		steps[i] = st.Key
	}
	metrics := []string{tracking.MetricRevenueIn + r.currency, tracking.MetricRevenueIn}
	tracking.QueueRevenueTimeline(b, c.ID, steps, metrics, w.from, w.to, w.resolution, r.addTimelineRevenue)
}

// addTimelineRevenue adds revenue v to the timeline point at at, adding
// the point (in order) when the timeline has none there.
func (r *Report) addTimelineRevenue(at time.Time, v float64) {
	i, found := slices.BinarySearchFunc(r.Timeline, at, func(p TimelinePoint, t time.Time) int { return p.At.Compare(t) })
	if !found {
		r.Timeline = slices.Insert(r.Timeline, i, TimelinePoint{At: at})
	}
	r.Timeline[i].Revenue += v
}

// markPartial flags the timeline's last point when its interval (a minute
// or an hour, r.TimelineResolution) has not ended at now.
func (r *Report) markPartial(now time.Time) {
	n := len(r.Timeline)
	if n == 0 {
		return
	}
	span := time.Minute
	if r.TimelineResolution == ResolutionHour {
		span = time.Hour
	}
	last := &r.Timeline[n-1]
	last.Partial = last.At.Add(span).After(now)
}
