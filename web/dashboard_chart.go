package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/peykar/peykar/campaigns/reports"
)

// Growth bars geometry, in SVG user units (the SVG scales to its box).
const (
	barsW, barsH       = 300, 80
	barsTop, barsBelow = 4, 16
)

// growthBars draws the new contacts per day as small server-side SVG bars,
// one per day, oldest on the left, each with its day and count as a
// tooltip; the first and last day are written below. Like timelineChart it
// carries only presentation attributes and classes (no inline style).
func growthBars(msg catalogue, days []reports.Day) template.HTML {
	if len(days) == 0 {
		return ""
	}
	var peak int64 = 1
	for _, d := range days {
		peak = max(peak, d.Created)
	}
	plotH := float64(barsH - barsTop - barsBelow)
	step := float64(barsW) / float64(len(days))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bars" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet" dir="ltr" direction="ltr">`,
		barsW, barsH, template.HTMLEscapeString(msg.T("dashboard.growth_chart")))
	fmt.Fprintf(&b, `<line class="grid" x1="0" x2="%d" y1="%.1f" y2="%.1f"/>`, barsW, barsTop+plotH, barsTop+plotH)
	for i, d := range days {
		h := float64(d.Created) * plotH / float64(peak)
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-day="%s" data-count="%d"><title>%s: %d</title></rect>`,
			float64(i)*step+step*0.15, barsTop+plotH-h, step*0.7, h, d.Date, d.Created, d.Date, d.Created)
	}
	fmt.Fprintf(&b, `<text class="axis" x="0" y="%d" text-anchor="start">%s</text>`, barsH-3, days[0].Date)
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, barsW, barsH-3, days[len(days)-1].Date)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // G203: dates, numbers and an escaped label
}
