package web

import (
	"strings"
	"testing"
	"time"

	"github.com/peykar/peykar/campaigns"
)

func TestTimelineChart(t *testing.T) {
	msg, err := loadCatalogue("en")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(timelineChart(msg, newLocale("en", nil), nil)); !strings.Contains(got, "Nothing sent yet") {
		t.Fatalf("empty timeline: %s", got)
	}
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	pts := []campaigns.TimelinePoint{
		{At: at, Sends: 100, Opens: 10},
		{At: at.Add(time.Minute), Sends: 50, Opens: 20, Clicks: 5},
		{At: at.Add(2 * time.Minute), Opens: 4, Clicks: 2, Conversions: 1},
	}
	got := string(timelineChart(msg, newLocale("en", nil), pts))
	for _, want := range []string{`role="img"`, `class="series-sends"`, `class="series-opens"`, `class="series-clicks"`,
		`class="series-conversions"`, ">100</text>", ">2026-01-02 10:00</text>", ">2026-01-02 10:02</text>", "Conversions"} {
		if !strings.Contains(got, want) {
			t.Errorf("chart lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "<polyline"); n != 4 {
		t.Errorf("%d polylines, want 4", n)
	}
	// The sends line starts at the top (peak 100) and ends on the zero line.
	if !strings.Contains(got, `points="56.0,12.0 `) || !strings.Contains(got, ` 708.0,212.0"><title>Sends`) {
		t.Errorf("sends line misplaced:\n%s", got)
	}
	// Time, not position, spaces the points: a gap of an hour after two
	// minutes puts the third point at the far end and the second near the start.
	gap := append([]campaigns.TimelinePoint{}, pts...)
	gap[2].At = at.Add(time.Hour)
	if got := string(timelineChart(msg, newLocale("en", nil), gap)); !strings.Contains(got, `points="56.0,12.0 66.9,112.0 708.0,212.0"><title>Sends`) {
		t.Errorf("points not spaced by time:\n%s", got)
	}
	if one := string(timelineChart(msg, newLocale("en", nil), pts[:1])); strings.Count(one, "<circle") != 4 {
		t.Errorf("a single interval draws a dot per series:\n%s", one)
	}
}

// TestTimelineChartPersian: the Persian chart runs right to left, with
// Persian digits, Jalali dates in the user's zone, and labels anchored
// so they stay inside the chart.
func TestTimelineChartPersian(t *testing.T) {
	t.Parallel()
	msg, err := loadCatalogue("fa")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	pts := []campaigns.TimelinePoint{
		{At: at, Sends: 100, Opens: 10},
		{At: at.Add(time.Minute), Sends: 50, Opens: 20, Clicks: 5},
		{At: at.Add(2 * time.Minute), Opens: 4, Clicks: 2, Conversions: 1},
	}
	loc, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		t.Fatal(err)
	}
	got := string(timelineChart(msg, newLocale("fa", loc), pts))
	for _, want := range []string{
		`text-anchor="start" dominant-baseline="middle">۱۰۰</text>`, // the count axis on the right
		`text-anchor="end">۱۴۰۴/۱۰/۱۲ ۱۳:۳۰</text>`,                 // the first time, at the right edge
		`text-anchor="start">۱۴۰۴/۱۰/۱۲ ۱۳:۳۲</text>`,               // the last, at the left edge
		`points="664.0,12.0 `, ` 12.0,212.0"><title>`, // sends: from the right, down to the left
	} {
		if !strings.Contains(got, want) {
			t.Errorf("chart lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, ">100<") || strings.Contains(got, ">0<") || strings.Contains(got, ">2026-") {
		t.Errorf("Latin digits in the Persian chart's labels:\n%s", got)
	}
}
