package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// The live report and the comparison were HTML pages under /api/v1 (in
// English, outside the admin layout). They live here now, translated and
// formatted by the user's locale; the old URLs answer 308 to these.

func (u *UI) liveReportRoutes(g *echo.Group) {
	g.GET("/campaigns/:id/live", u.liveReportPage)
	g.GET("/campaigns/:id/live/body", u.liveReportBody)
	g.GET("/reports/compare", u.comparePage)
}

// liveReport is the live report page's data.
type liveReport struct {
	ID     int64
	Report campaigns.Report
	View   reports.View
	Funnel []funnelRow

	// FromReplica is set when the report was read from a replica; DataAge
	// is then how old its data may be, in whole seconds ("as of 2 s ago").
	FromReplica bool
	DataAge     int64
}

// funnelRow is one bar of the funnel: a message id and its count.
type funnelRow struct {
	Label string
	Count int64
	Share float64 // of sent, in [0, 1]
}

func (u *UI) liveReportData(c echo.Context) (liveReport, error) {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return liveReport{}, err
	}
	cp, err := campaigns.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return liveReport{}, err
	}
	r, err := u.Campaigns.Report(c.Request().Context(), id)
	if err != nil {
		return liveReport{}, err
	}
	m := r.Metrics
	share := func(n int64) float64 {
		if m.Sent <= 0 {
			return 0
		}
		return min(1, float64(n)/float64(m.Sent))
	}
	var funnel []funnelRow
	for _, f := range []struct {
		label string
		n     int64
	}{{"metric.sent", m.Sent}, {"metric.delivered", m.Delivered}, {"live.opened", m.UniqueOpens}, {"live.clicked", m.UniqueClicks}, {"live.converted", m.Converted}} {
		funnel = append(funnel, funnelRow{Label: f.label, Count: f.n, Share: share(f.n)})
	}
	d := liveReport{ID: id, Report: r, View: reports.NewView(r, stepKeys(cp)), Funnel: funnel}
	if age := dataAgeOf(r); age != nil {
		d.FromReplica, d.DataAge = true, age.Seconds
	}
	return d, nil
}

// liveReportPage is the campaign's live report: headline numbers, progress,
// goals, the chart, the funnel, steps and links, kept current by the
// campaign's event stream (web/static/live_report.js re-reads the body).
func (u *UI) liveReportPage(c echo.Context) error {
	d, err := u.liveReportData(c)
	if err != nil {
		return u.pageErr(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return u.render(c, http.StatusOK, "live_report", pageData{Title: u.t(c, "live.title", d.Report.Name), Nav: "campaigns", Data: d})
}

// liveReportBody is the live report's body alone, which the page's script
// fetches when the stream says the report changed.
func (u *UI) liveReportBody(c echo.Context) error {
	d, err := u.liveReportData(c)
	if err != nil {
		return u.pageErr(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return u.fragment(c, http.StatusOK, "live_report", "live_body", d)
}

// compareMetric is one row of the comparison: the metric (its label is
// metric.<Key>) and how its value is written.
type compareMetric struct {
	Key   string
	Value func(locale, campaigns.Metrics) string
}

func countMetric(key string, f func(campaigns.Metrics) int64) compareMetric {
	return compareMetric{key, func(l locale, m campaigns.Metrics) string { return l.Num(f(m)) }}
}

func rateMetric(key string, f func(campaigns.Metrics) float64) compareMetric {
	return compareMetric{key, func(l locale, m campaigns.Metrics) string { return l.Pct(f(m)) }}
}

func moneyMetric(key string, f func(campaigns.Metrics) float64) compareMetric {
	return compareMetric{key, func(l locale, m campaigns.Metrics) string { return l.Money(m.Currency, f(m)) }}
}

// compareMetrics are the comparison's rows, in the order the API's
// comparison page had them.
var compareMetrics = []compareMetric{
	countMetric("sent", func(m campaigns.Metrics) int64 { return m.Sent }),
	countMetric("delivered", func(m campaigns.Metrics) int64 { return m.Delivered }),
	countMetric("bounced", func(m campaigns.Metrics) int64 { return m.Bounced }),
	countMetric("opens", func(m campaigns.Metrics) int64 { return m.Opens }),
	countMetric("unique_opens", func(m campaigns.Metrics) int64 { return m.UniqueOpens }),
	countMetric("clicks", func(m campaigns.Metrics) int64 { return m.Clicks }),
	countMetric("unique_clicks", func(m campaigns.Metrics) int64 { return m.UniqueClicks }),
	countMetric("unsubscribes", func(m campaigns.Metrics) int64 { return m.Unsubscribes }),
	countMetric("complaints", func(m campaigns.Metrics) int64 { return m.Complaints }),
	countMetric("conversions", func(m campaigns.Metrics) int64 { return m.Conversions }),
	moneyMetric("revenue", func(m campaigns.Metrics) float64 { return m.Revenue }),
	{"revenue_other", func(l locale, m campaigns.Metrics) string {
		if s := l.Amounts(reports.OtherAmounts(m)); s != "" {
			return s
		}
		return "—"
	}},
	rateMetric("open_rate", func(m campaigns.Metrics) float64 { return m.OpenRate }),
	rateMetric("ctr", func(m campaigns.Metrics) float64 { return m.CTR }),
	rateMetric("ctor", func(m campaigns.Metrics) float64 { return m.CTOR }),
	rateMetric("unsubscribe_rate", func(m campaigns.Metrics) float64 { return m.UnsubscribeRate }),
	rateMetric("bounce_rate", func(m campaigns.Metrics) float64 { return m.BounceRate }),
	rateMetric("conversion_rate", func(m campaigns.Metrics) float64 { return m.ConversionRate }),
	moneyMetric("revenue_per_recipient", func(m campaigns.Metrics) float64 { return m.RevenuePerRecipient }),
	countMetric("total_opens", func(m campaigns.Metrics) int64 { return m.TotalOpens }),
	countMetric("total_clicks", func(m campaigns.Metrics) int64 { return m.TotalClicks }),
}

// compareRow is one metric across the compared campaigns, written.
type compareRow struct {
	Key    string
	Values []string
}

// comparePage is several campaigns side by side (?ids=1,2,3, as the
// compare API takes them), each metric by its label.
func (u *UI) comparePage(c echo.Context) error {
	ids, err := compareIDsParam(c.QueryParam("ids"), func(id string, args ...any) string { return u.t(c, id, args...) })
	if err != nil {
		return u.pageErr(c, err)
	}
	var reps []campaigns.Report
	for _, id := range ids {
		r, err := u.Campaigns.Report(c.Request().Context(), id)
		if err != nil {
			return u.pageErr(c, err)
		}
		reps = append(reps, r)
	}
	lc := u.locale(c)
	rows := make([]compareRow, len(compareMetrics))
	for i, cm := range compareMetrics {
		rows[i] = compareRow{Key: cm.Key}
		for _, r := range reps {
			rows[i].Values = append(rows[i].Values, cm.Value(lc, r.Metrics))
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return u.render(c, http.StatusOK, "compare", pageData{Nav: "reports", Data: map[string]any{"Reports": reps, "Rows": rows}})
}

// compareIDsParam reads "1,2,3": at least one id, at most maxCompared;
// tr words the refusal.
func compareIDsParam(s string, tr func(string, ...any) string) ([]int64, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return nil, errs.Field("ids", "%s", tr("live.compare_bad_id", p))
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errs.Field("ids", "%s", tr("live.compare_none"))
	}
	if len(ids) > maxCompared {
		return nil, errs.Field("ids", "%s", tr("live.compare_too_many", maxCompared))
	}
	return ids, nil
}
