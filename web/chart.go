package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/peykar/peykar/campaigns"
)

// chartSeries is one line of the timeline chart.
type chartSeries struct {
	Key   string // message id suffix (metric.*) and CSS class (series-*)
	Value func(campaigns.TimelinePoint) int64
}

var timelineSeries = []chartSeries{
	{"sends", func(p campaigns.TimelinePoint) int64 { return p.Sends }},
	{"opens", func(p campaigns.TimelinePoint) int64 { return p.Opens }},
	{"clicks", func(p campaigns.TimelinePoint) int64 { return p.Clicks }},
	{"conversions", func(p campaigns.TimelinePoint) int64 { return p.Conversions }},
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH         = 720, 240
	chartLeft, chartRight  = 56, 12
	chartTop, chartBottom  = 12, 28
	chartPlotW, chartPlotH = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// timelineChart draws the campaign timeline server-side as an inline SVG:
// one polyline per series (sends, opens, clicks, conversions) on a shared
// count axis over time, with the first, middle and last interval's time
// below. The
// SVG carries only presentation attributes and classes (the CSP allows no
// inline style); the numbers themselves are in the table beside it.
func timelineChart(msg catalogue, pts []campaigns.TimelinePoint) template.HTML {
	if len(pts) == 0 {
		return template.HTML(`<p class="hint">` + template.HTMLEscapeString(msg.T("chart.empty")) + `</p>`) //nolint:gosec // G203: the text is escaped
	}
	var peak int64 = 1
	for _, p := range pts {
		for _, s := range timelineSeries {
			peak = max(peak, s.Value(p))
		}
	}
	// x is by time, not by index: the intervals are minutes on the first
	// day and hours after, and quiet intervals may be missing.
	first, span := pts[0].At, pts[len(pts)-1].At.Sub(pts[0].At)
	x := func(i int) float64 {
		if span <= 0 {
			return chartLeft + chartPlotW/2
		}
		return chartLeft + float64(pts[i].At.Sub(first))*chartPlotW/float64(span)
	}
	y := func(v int64) float64 { return chartTop + chartPlotH - float64(v)*chartPlotH/float64(peak) }
	var b strings.Builder
	title := template.HTMLEscapeString(msg.T("chart.title"))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet" dir="ltr">`, chartW, chartH, title)
	// Axes and grid: 0, half and peak.
	for _, v := range []int64{0, peak / 2, peak} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRight, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%d</text>`, chartLeft-6, y(v), v)
	}
	seen := map[int]bool{}
	for _, i := range []int{0, len(pts) / 2, len(pts) - 1} {
		if seen[i] {
			continue // fewer than three points: label each once
		}
		seen[i] = true
		anchor := "middle"
		if i == 0 && span > 0 {
			anchor = "start"
		} else if i == len(pts)-1 && span > 0 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(i), chartH-8, anchor, pts[i].At.UTC().Format("01-02 15:04"))
	}
	// A last, partial interval (counts so far) is not joined to the line,
	// where it would look like a drop: it is a hollow dot of its own.
	whole := len(pts)
	if pts[whole-1].Partial && whole > 1 {
		whole--
	}
	for _, s := range timelineSeries {
		var coords []string
		for i, p := range pts {
			coords = append(coords, strconv.FormatFloat(x(i), 'f', 1, 64)+","+strconv.FormatFloat(y(s.Value(p)), 'f', 1, 64))
		}
		name := template.HTMLEscapeString(msg.T("metric." + s.Key))
		if span <= 0 {
			fmt.Fprintf(&b, `<circle class="series-%s" cx="%s" r="4"><title>%s</title></circle>`, s.Key, strings.Replace(coords[0], ",", `" cy="`, 1), name)
			continue
		}
		fmt.Fprintf(&b, `<polyline class="series-%s" fill="none" points="%s"><title>%s</title></polyline>`, s.Key, strings.Join(coords[:whole], " "), name)
		if whole < len(pts) {
			fmt.Fprintf(&b, `<circle class="series-%s partial" fill="none" cx="%s" r="4"><title>%s</title></circle>`, s.Key, strings.Replace(coords[whole], ",", `" cy="`, 1), name)
		}
	}
	b.WriteString(`</svg><ul class="legend">`)
	for _, s := range timelineSeries {
		fmt.Fprintf(&b, `<li><span class="swatch series-%s" aria-hidden="true"></span>%s</li>`, s.Key, template.HTMLEscapeString(msg.T("metric."+s.Key)))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String()) //nolint:gosec // G203: every text above is escaped or numeric
}
