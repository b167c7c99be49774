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
// below, written by lc (the user's calendar, digits and zone). In a
// right-to-left language the chart is mirrored: time runs from right to
// left and the count axis stands on the right, its labels anchored away
// from the plot. The SVG carries only presentation attributes and classes
// (the CSP allows no inline style); the numbers themselves are in the
// table beside it.
func timelineChart(msg catalogue, lc locale, pts []campaigns.TimelinePoint) template.HTML {
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
	rtl := msg.T("dir") == "rtl"
	// mx mirrors a left-to-right x in a right-to-left page.
	mx := func(v float64) float64 {
		if rtl {
			return chartW - v
		}
		return v
	}
	x := func(i int) float64 {
		if span <= 0 {
			return mx(chartLeft + chartPlotW/2)
		}
		return mx(chartLeft + float64(pts[i].At.Sub(first))*chartPlotW/float64(span))
	}
	y := func(v int64) float64 { return chartTop + chartPlotH - float64(v)*chartPlotH/float64(peak) }
	var b strings.Builder
	title := template.HTMLEscapeString(msg.T("chart.title"))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet" dir="ltr">`, chartW, chartH, title)
	// Axes and grid: 0, half and peak.
	for _, v := range []int64{0, peak / 2, peak} {
		fmt.Fprintf(&b, `<line class="grid" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/>`, mx(chartLeft), mx(chartW-chartRight), y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="%.1f" text-anchor="%s" dominant-baseline="middle">%s</text>`,
			mx(chartLeft-6), y(v), map[bool]string{false: "end", true: "start"}[rtl], template.HTMLEscapeString(lc.Num(v)))
	}
	seen := map[int]bool{}
	for _, i := range []int{0, len(pts) / 2, len(pts) - 1} {
		if seen[i] {
			continue // fewer than three points: label each once
		}
		seen[i] = true
		// The first label starts at its point and the last ends at its
		// point, so neither leaves the chart (mirrored in right to left).
		anchor := "middle"
		if i == 0 && span > 0 {
			anchor = map[bool]string{false: "start", true: "end"}[rtl]
		} else if i == len(pts)-1 && span > 0 {
			anchor = map[bool]string{false: "end", true: "start"}[rtl]
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(i), chartH-8, anchor, template.HTMLEscapeString(lc.Date(pts[i].At)))
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
