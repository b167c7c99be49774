package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/web"
)

// browserUA is a desktop browser's user agent (what a scanner sends too).
const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

var openURL = regexp.MustCompile(`https://peykar\.test(/t/o/[A-Za-z0-9_-]+\.gif)`)

// TestNumbersAManagerCanTrust is issue 15's "done when", through the real
// engine, SMTP server, tracking endpoints and report API and page: a main
// step, a no_open resend, a click follow-up, purchases in two currencies
// and a scanner's burst. The campaign's rates equal the people-based values
// computed by hand and from raw rows, before and after the resend goes
// out, and so do the goals; revenue is per currency; the burst fires no
// rule.
func TestNumbersAManagerCanTrust(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	clock := &verdictClock{t: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	trk := b.trackingServerAt(t, clock.Now)
	api := b.reportServer(t)

	c := b.seed(t, 6, 0) // user0 … user5
	var links int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('links', 'Spring sale',
		'<p><a href="https://shop.example/a">A</a> <a href="https://shop.example/b">B</a> <a href="https://shop.example/c">C</a></p>') RETURNING id`).Scan(&links))
	var reminder int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html) VALUES ('reminder', 'Reminder', '<p>Still on</p>') RETURNING id`).Scan(&reminder))
	c.Steps = []campaigns.Step{{Key: "main", TemplateID: links}, {Key: "resend", TemplateID: reminder}, {Key: "offer", TemplateID: b.followUpTemplate(t)}}
	c.Rules = []campaigns.Rule{
		// The timer is moved to now below, once the opens are in.
		{Name: "no open", On: "no_open", After: "72h", Actions: []campaigns.Action{{Type: "send", Step: "resend"}}},
		{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}},
	}
	c.Goals = []campaigns.Goal{{Name: "opens", When: "open_rate >= 0.3"}, {Name: "clicks", When: "ctr >= 0.15"}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 30*time.Second)

	// user1 opens; user2 opens and clicks A; user0's mail scanner follows
	// A, B and C within 600 ms with a browser's user agent.
	t0 := clock.Now()
	b.openPixel(t, trk, "user1@example.com")
	clock.Set(t0.Add(time.Minute))
	b.openPixel(t, trk, "user2@example.com")
	clock.Set(t0.Add(2 * time.Minute))
	b.clickOnly(t, trk, "user2@example.com", "A")
	for i, link := range []string{"A", "B", "C"} {
		clock.Set(t0.Add(10*time.Minute + time.Duration(i)*300*time.Millisecond))
		b.clickOnly(t, trk, "user0@example.com", link)
	}
	require.Len(t, b.ruleJobs(t, c.ID, "scheduled"), 3, "user2's click and the burst's first two wait for their verdict")
	b.passVerdictWindow(t)
	require.Eventually(t, func() bool { return len(b.ruleJobs(t, c.ID, "completed")) == 3 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return b.received("user2@example.com", "Your offer") == 1 }, 30*time.Second, 20*time.Millisecond)

	// Hand-computed, people-based: 6 people delivered, 2 opened (user1,
	// user2), 1 clicked (user2); the scanner's clicks are machine traffic.
	want := map[string]float64{"open_rate": 2.0 / 6, "ctr": 1.0 / 6, "ctor": 1.0 / 2, "bounce_rate": 0, "unsubscribe_rate": 0}
	before := b.apiReport(t, api, c.ID)
	requireRates(t, want, before.Metrics)
	require.Equal(t, []string{"met", "met"}, goalStates(before.Goals))
	require.EqualValues(t, 3, before.Metrics.TotalClicks-before.Metrics.Clicks, "the burst is counted, as machine")

	// The no_open timers run now: the reminder goes to the four people
	// who did not open (user0, user3, user4, user5).
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE kind = 'rule_timer' AND state = 'scheduled' AND (args->>'campaign_id')::bigint = $1`, c.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return b.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'resend' AND status = 'sent'`, c.ID) == 4
	}, 30*time.Second, 20*time.Millisecond)
	b.settleSends(t) // the reminders are counted by the send fold
	after := b.apiReport(t, api, c.ID)
	require.EqualValues(t, 6+1+4, after.Metrics.Sent, "main, the offer and the reminders")
	requireRates(t, want, after.Metrics)
	require.Equal(t, goalStates(before.Goals), goalStates(after.Goals), "goals do not move when follow-ups go out")
	require.InDelta(t, 0, after.Steps["resend"].OpenRate, 1e-12, "per step, the resend's own rates")
	require.InDelta(t, 2.0/6, after.Steps["main"].OpenRate, 1e-12)

	// Purchases in two currencies, posted to the events API.
	b.postPurchase(t, trk, "user1@example.com", 590, "EUR", c.ID)
	b.postPurchase(t, trk, "user2@example.com", 10000, "JPY", c.ID)
	r := b.apiReport(t, api, c.ID)
	requireRates(t, want, r.Metrics)
	require.Equal(t, "EUR", r.Metrics.Currency)
	require.Equal(t, map[string]float64{"EUR": 590, "JPY": 10000}, r.Metrics.RevenueByCurrency)
	require.InDelta(t, 590, r.Metrics.Revenue, 1e-9)
	require.InDelta(t, 590.0/6, r.Metrics.RevenuePerRecipient, 1e-9)
	require.InDelta(t, 2.0/6, r.Metrics.ConversionRate, 1e-12)
	require.Equal(t, goalStates(before.Goals), goalStates(r.Goals))

	// The same numbers from raw rows.
	raw := func(q string) float64 {
		var n float64
		require.NoError(t, b.pool.QueryRow(ctx, q, c.ID).Scan(&n))
		return n
	}
	people := raw(`SELECT count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`)
	opened := raw(`SELECT count(DISTINCT d.contact_id) FROM events e JOIN deliveries d ON d.id = e.delivery_id
		WHERE d.campaign_id = $1 AND e.type = 'open' AND NOT e.machine`)
	clicked := raw(`SELECT count(DISTINCT d.contact_id) FROM events e JOIN deliveries d ON d.id = e.delivery_id
		WHERE d.campaign_id = $1 AND e.type = 'click' AND NOT e.machine`)
	eur := raw(`SELECT coalesce(sum(value), 0)::float8 FROM transactions WHERE campaign_id = $1 AND currency = 'EUR'`)
	require.InDelta(t, opened/people, r.Metrics.OpenRate, 1e-12)
	require.InDelta(t, clicked/people, r.Metrics.CTR, 1e-12)
	require.InDelta(t, eur, r.Metrics.Revenue, 1e-9)

	// No rule fired for the scanner: one offer (user2's), one firing.
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND step = 'offer'`, c.ID))
	require.Zero(t, b.received("user0@example.com", "Your offer"))
	require.Equal(t, 1, b.countOf(t, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1 AND rule_name = 'clicked'`, c.ID))

	// The live report page (the admin UI's) shows the same.
	code, page := get(t, api.URL+"/admin/campaigns/"+itoa(c.ID)+"/live")
	require.Equal(t, http.StatusOK, code, page)
	for _, s := range []string{`data-metric="open_rate">33.3%<`, `data-metric="ctr">16.7%<`,
		`data-metric="ctor">50.0%<`, `data-metric="revenue">€590.00<`,
		"In other currencies (not added): ¥10,000", `data-metric="revenue_per_recipient">€98.33<`,
		`<li class="goal met"><strong dir="auto">opens</strong>`, `<li class="goal met"><strong dir="auto">clicks</strong>`,
		`Open rate is 33.33%, target <bdi dir="ltr" class="mono goal-op">&gt;=</bdi> 30%`, `Click rate is 16.67%, target <bdi dir="ltr" class="mono goal-op">&gt;=</bdi> 15%`} {
		require.Contains(t, page, s)
	}
	require.NotContains(t, page, "10590", "currencies are never added")
}

// reportServer serves the campaigns API and the admin report pages over the
// bundle's database.
func (b *bundle) reportServer(t *testing.T) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slog.Default())
	api := e.Group("/api/v1")
	b.svc.Routes(api)
	rep, err := reports.New(reports.Config{Pool: b.pool, Logger: b.svc.Logger, Report: b.svc.Report})
	require.NoError(t, err)
	rep.Routes(api)
	require.NoError(t, web.Register(e.Group("/admin"), web.Deps{Pool: b.pool, Campaigns: b.svc, Logger: b.svc.Logger}))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func (b *bundle) apiReport(t *testing.T, srv *httptest.Server, id int64) campaigns.Report {
	t.Helper()
	code, body := get(t, srv.URL+"/api/v1/campaigns/"+itoa(id)+"/report")
	require.Equal(t, http.StatusOK, code, body)
	var r campaigns.Report
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	return r
}

// openPixel loads the open pixel of the message sent to rcpt, as a
// person's mail client would.
func (b *bundle) openPixel(t *testing.T, srv *httptest.Server, rcpt string) {
	t.Helper()
	for _, m := range b.sink.Messages() {
		if m.To[0] != rcpt {
			continue
		}
		p, err := outbox.Parse(m.Data)
		require.NoError(t, err)
		if path := openURL.FindStringSubmatch(p.HTML); path != nil {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path[1], nil)
			req.Header.Set("User-Agent", browserUA)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			settleTracking(t, srv)
			return
		}
	}
	t.Fatalf("no open pixel in a message to %s", rcpt)
}

func (b *bundle) postPurchase(t *testing.T, srv *httptest.Server, email string, value float64, currency string, campaignID int64) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"email": email, "type": "purchase", "value": value, "currency": currency, "campaign_id": campaignID})
	resp, err := http.Post(srv.URL+"/api/v1/events", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(out))
}

// requireRates checks the campaign-level rates named in want.
func requireRates(t *testing.T, want map[string]float64, m campaigns.Metrics) {
	t.Helper()
	got := map[string]float64{"open_rate": m.OpenRate, "ctr": m.CTR, "ctor": m.CTOR, "bounce_rate": m.BounceRate, "unsubscribe_rate": m.UnsubscribeRate}
	for k, v := range want {
		require.InDelta(t, v, got[k], 1e-12, k)
	}
}

func goalStates(gs []campaigns.GoalResult) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Status
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}
