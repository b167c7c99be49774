package web

import (
	"strings"
	"testing"
	"time"

	"github.com/peykar/peykar/campaigns"
)

// TestTimelineChartPartialInterval checks that the last, partial interval
// is drawn apart (a hollow dot) and not joined to the line, where its
// counts so far would look like a drop to 0.
func TestTimelineChartPartialInterval(t *testing.T) {
	msg, err := loadCatalogue("en")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	pts := []campaigns.TimelinePoint{
		{At: at, Sends: 120},
		{At: at.Add(time.Minute), Sends: 120},
		{At: at.Add(2 * time.Minute), Sends: 3, Partial: true},
	}
	got := string(timelineChart(msg, newLocale("en", nil), pts))
	line := got[strings.Index(got, `<polyline class="series-sends"`):]
	line = line[:strings.Index(line, "</polyline>")]
	if n := strings.Count(line[strings.Index(line, `points="`):strings.Index(line, `"><title>`)], ","); n != 2 {
		t.Fatalf("the sends line joins %d points, want the 2 whole intervals:\n%s", n, line)
	}
	if !strings.Contains(got, `<circle class="series-sends partial" fill="none"`) {
		t.Fatalf("the partial interval is not drawn apart:\n%s", got)
	}
}
