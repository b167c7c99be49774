package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
)

// TestOldReportPagesRedirect: the HTML pages that were under the API
// answer 308 to the admin pages; the JSON is unchanged.
func TestOldReportPagesRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.seed(t, 2, 1000)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, to := range map[string]string{
		"/campaigns/" + itoa(c.ID) + "/report.html": "/admin/campaigns/" + itoa(c.ID) + "/live",
		"/reports/compare.html?ids=1,2":             "/admin/reports/compare?ids=1,2",
	} {
		resp, err := noFollow.Get(b.url + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusPermanentRedirect, resp.StatusCode, path)
		require.Equal(t, to, resp.Header.Get("Location"), path)
	}
	resp, err := noFollow.Get(b.url + "/campaigns/x/report.html")
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusPermanentRedirect, resp.StatusCode, "not an id: no redirect")

	code, body := b.body(t, "/reports/compare?ids="+itoa(c.ID))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"items":[{`)
}

func TestLiveReportAndComparePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 10, 1000, campaigns.Goal{Name: "reach", When: "sent >= 20"})
	b.launch(t, c)
	evil := campaigns.Campaign{Name: `<script>alert("x")</script> فروش`, Steps: []campaigns.Step{}}
	require.NoError(t, b.svc.Create(ctx, &evil))

	code, body := b.page(t, "/campaigns/"+itoa(c.ID)+"/live", "en")
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{`<h1 dir="auto">Spring</h1>`, `data-metric="sent">10<`, `id="live-chart"`, `id="funnel"`, "reach", "50.0%",
		`data-stream="/api/v1/campaigns/` + itoa(c.ID) + `/stream"`, "/admin/assets/live_report.js", "https://shop.example/pricing",
		`<div class="label">Open rate</div>`, `<header class="top">`, `data-text-live="live"`} {
		require.Contains(t, body, want)
	}
	code, part := b.page(t, "/campaigns/"+itoa(c.ID)+"/live/body", "en")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, part, `data-metric="sent">10<`)
	require.NotContains(t, part, "<nav", "the body alone, for the script to swap in")

	code, body = b.page(t, "/campaigns/"+itoa(evil.ID)+"/live", "en")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, `<script>alert`)
	require.Contains(t, body, "فروش")

	code, body = b.page(t, "/reports/compare?ids="+itoa(c.ID)+","+itoa(evil.ID), "en")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `<th scope="row">Open rate</th>`, "metrics by their label")
	require.NotContains(t, body, `>open_rate<`)
	require.NotContains(t, body, `<script>alert`)

	code, body = b.page(t, "/campaigns/999999/live", "en")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, body, "That page does not exist")
	code, body = b.page(t, "/campaigns/999999/live", "fa")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, body, "این صفحه وجود ندارد (یا پاک شده است).", "the error page in the user's language")
	code, body = b.page(t, "/reports/compare?ids=x", "fa")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, "شناسهٔ کارزار نیست")
}

// TestLiveReportInPersian: the moved page speaks Persian: labels, Persian
// digits, the right-to-left layout.
func TestLiveReportInPersian(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.seed(t, 10, 1000, campaigns.Goal{Name: "reach", When: "sent >= 20"})
	b.launch(t, c)
	code, body := b.page(t, "/campaigns/"+itoa(c.ID)+"/live", "fa")
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{`dir="rtl"`, `data-metric="sent">۱۰<`, `<div class="label">نرخ باز شدن</div>`, "۵۰٫۰٪", "گزارش زنده"} {
		require.Contains(t, body, want)
	}
	code, body = b.page(t, "/reports/compare?ids="+itoa(c.ID), "fa")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `<th scope="row">نرخ باز شدن</th>`)
	require.Contains(t, body, `<td class="num">۱۰</td>`)
}

// TestPagesShowMoneyInItsCurrency: the live report and the comparison show
// revenue and revenue per recipient with the currency, from a direct sum
// over the raw transactions, and the JPY amount beside it, never added;
// the API's timeline revenue (per minute and per hour) adds up to the EUR
// revenue alone.
func TestPagesShowMoneyInItsCurrency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 6, 1000)
	b.launch(t, c)
	ids, _ := b.deliveries(t, c.ID)
	buy(t, b, c.ID, ids[0], 590, "EUR")
	buy(t, b, c.ID, ids[1], 10000, "JPY")

	var eur, jpy float64
	var people int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(sum(value) FILTER (WHERE currency = 'EUR'), 0)::float8,
			coalesce(sum(value) FILTER (WHERE currency = 'JPY'), 0)::float8 FROM transactions`).Scan(&eur, &jpy))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(DISTINCT contact_id) FROM deliveries
		WHERE campaign_id = $1 AND status = 'sent'`, c.ID).Scan(&people))
	require.Equal(t, []float64{590, 10000}, []float64{eur, jpy})
	perRecipient := fmt.Sprintf("€%.2f", eur/float64(people))

	code, body := b.page(t, "/campaigns/"+itoa(c.ID)+"/live", "en")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `data-metric="revenue">€590.00</div>`)
	require.Contains(t, body, `<div class="hint" id="revenue-other">In other currencies (not added): ¥10,000</div>`)
	require.Contains(t, body, `data-metric="revenue_per_recipient">`+perRecipient+`</div>`)
	require.Contains(t, body, `<td class="num">€590.00 · In other currencies (not added): ¥10,000</td>`, "the main step's revenue")
	require.NotContains(t, body, "10590")
	require.NotContains(t, body, "10,590", "currencies are never added")

	// The timeline's revenue is the reporting currency's too, per minute
	// and per hour.
	for _, res := range []string{"minute", "hour"} {
		code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report?resolution="+res)
		require.Equal(t, http.StatusOK, code, body)
		var r campaigns.Report
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		sum := 0.0
		for _, p := range r.Timeline {
			sum += p.Revenue
		}
		require.InDelta(t, eur, sum, 1e-9, res)
		require.InDelta(t, eur, r.Metrics.Revenue, 1e-9)
	}

	code, body = b.page(t, "/reports/compare?ids="+itoa(c.ID), "en")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `<tr data-metric="revenue"><th scope="row">Revenue</th><td class="num">€590.00</td></tr>`)
	require.Contains(t, body, `<td class="num">¥10,000</td>`)
	require.Contains(t, body, fmt.Sprintf(`<td class="num">%s</td>`, perRecipient))

	code, body = b.page(t, "/campaigns/"+itoa(c.ID)+"/live", "fa")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `data-metric="revenue">۵۹۰٫۰۰ €</div>`, "Persian: the amount, then the sign")
}

// TestReportPageNumbersFromRawRows: the live report's progress, per-step
// rows and goal terms match counts taken straight from the deliveries.
func TestReportPageNumbersFromRawRows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 10, 5, campaigns.Goal{Name: "reach", When: "sent >= 20 && bounce_rate < 0.5"})
	b.launch(t, c)

	var sent, bounced, total int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status IN ('sent', 'bounced')), count(*) FILTER (WHERE status = 'bounced'), count(*)
		FROM deliveries WHERE campaign_id = $1 AND step = 'main'`, c.ID).Scan(&sent, &bounced, &total))
	require.EqualValues(t, 2, bounced)

	code, body := b.page(t, "/campaigns/"+itoa(c.ID)+"/live", "en")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, fmt.Sprintf(`<p id="progress">%d / %d sent · %d bounced </p>`, sent-bounced, total, bounced))
	require.NotContains(t, body, "messages/s")
	require.NotContains(t, body, " left")
	// Per step: main sent everything, the follow-up step nothing.
	require.Contains(t, body, fmt.Sprintf(`<tr><td class="mono" dir="ltr">main</td><td class="num">%d</td><td class="num">%d</td>`, sent, sent-bounced))
	require.Contains(t, body, `<tr><td class="mono" dir="ltr">offer</td><td class="num">0</td><td class="num">0</td>`)
	// The goal's terms: the value now against the target, each metric by
	// its label and the operator kept left to right.
	require.Contains(t, body, fmt.Sprintf(`Sent is %d, target <bdi dir="ltr" class="mono goal-op">&gt;=</bdi> 20`, sent))
	require.Contains(t, body, fmt.Sprintf(`Bounce rate is %s%%, target <bdi dir="ltr" class="mono goal-op">&lt;</bdi> 50%%`, trimFloat(100*float64(bounced)/float64(sent))))
}

func trimFloat(f float64) string { return fmt.Sprintf("%g", float64(int64(f*100+0.5))/100) }
