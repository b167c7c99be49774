package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/internal/smtptest"
)

// dashboardScenario is a small business: seven contacts (one unsubscribed,
// two created days or weeks ago), a finished campaign to three of them (one
// refused for good, one complaint) with one goal met and one not, a
// campaign still sending (its only recipient is refused for now), and
// analytics scores with an old customer at churn risk.
type dashboardScenario struct {
	m                    *Main
	finished, running    int64
	marketer, manager    string // API tokens
	marketerPW, bossPW   string // passwords of marketer@ and boss@
	marketerEm, bossMail string
}

func newDashboardScenario(t *testing.T) dashboardScenario {
	t.Helper()
	ctx := context.Background()
	sink, err := smtptest.Start(smtptest.Options{Reject: func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case "hard@dash.example":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "later@dash.example":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	s := dashboardScenario{
		m:          testMain(t, "SMTP_URL", fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=1", sink.Port())),
		marketerEm: "marketer@example.com", marketerPW: "marketer password",
		bossMail: "boss@example.com", bossPW: "manager password",
	}
	m := s.m
	s.marketer, s.manager = testToken(t, m, auth.RoleMarketer), testToken(t, m, auth.RoleManager)
	_, err = auth.CreateUser(ctx, m.pool, s.marketerEm, s.marketerPW, auth.RoleMarketer)
	require.NoError(t, err)
	_, err = auth.CreateUser(ctx, m.pool, s.bossMail, s.bossPW, auth.RoleManager)
	require.NoError(t, err)

	now := time.Now()
	for _, name := range []string{"ok1", "ok2", "hard", "later"} {
		factory.Contact(t, m.pool, factory.Email(name+"@dash.example"))
	}
	old := factory.Contact(t, m.pool, factory.Email("old@dash.example"), factory.CreatedAt(now.AddDate(0, 0, -10)))
	factory.Contact(t, m.pool, factory.Email("older@dash.example"), factory.CreatedAt(now.AddDate(0, 0, -40)))
	factory.Contact(t, m.pool, factory.Email("gone@dash.example"), factory.Status("unsubscribed"), factory.CreatedAt(now.AddDate(0, 0, -3)))
	// old@ bought twice ten days apart, long ago: at churn risk.
	factory.Transaction(t, m.pool, old.ID, factory.Value(120), factory.OccurredAt(now.AddDate(0, 0, -300)))
	factory.Transaction(t, m.pool, old.ID, factory.Value(80), factory.OccurredAt(now.AddDate(0, 0, -290)))

	tpl := factory.Template(t, m.pool, factory.HTML(`<p>Hi</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`))
	launch := func(name, rule string, goals []map[string]string) int64 {
		seg := factory.Segment(t, m.pool, factory.SegmentName(name), factory.Rule(rule))
		code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", s.marketer, map[string]any{
			"name": name, "segment_id": seg.ID, "channel": "email",
			"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": tpl.ID}}, "goals": goals,
		})
		require.Equal(t, http.StatusCreated, code, body)
		var c struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(body), &c))
		code, body = do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", c.ID), s.marketer, nil)
		require.Less(t, code, 300, body)
		return c.ID
	}
	s.finished = launch("Spring", `contact.email in ["ok1@dash.example", "ok2@dash.example", "hard@dash.example"]`,
		[]map[string]string{{"name": "reach", "when": "sent >= 2"}, {"name": "clicks", "when": "ctr >= 0.5"}})
	require.Eventually(t, func() bool {
		var status string
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM campaigns WHERE id = $1`, s.finished).Scan(&status))
		return status == "finished"
	}, time.Minute, 20*time.Millisecond, "Spring finishes")
	code, body := do(t, m, http.MethodPost, "/api/v1/webhooks/bounce", s.marketer, map[string]any{"email": "ok1@dash.example", "type": "complaint"})
	require.Equal(t, http.StatusAccepted, code, body)

	s.running = launch("Summer", `contact.email == "later@dash.example"`, nil)
	require.Eventually(t, func() bool {
		var tried bool
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(bool_and(attempts >= 1), false) FROM deliveries WHERE campaign_id = $1`, s.running).Scan(&tried))
		return tried
	}, time.Minute, 20*time.Millisecond, "Summer tried its recipient")

	_, err = analytics.Recompute(ctx, m.pool, analytics.Config{}, nil)
	require.NoError(t, err)
	return s
}

// rawDashboard is what direct counts over the raw rows give for the
// dashboard's numbers.
type rawDashboard struct {
	contacts, sendable, new7, new30        int64
	sent, bounced, complaints              int64
	runningTotal, runningSent              int64
	churn                                  int64
	bounceRate, complaintRate              float64
	finishedSent, finishedDeliveredClicked int64
}

func (s dashboardScenario) raw(t *testing.T) rawDashboard {
	t.Helper()
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var r rawDashboard
	q := func(sql string, dst any, args ...any) {
		t.Helper()
		require.NoError(t, s.m.pool.QueryRow(ctx, sql, args...).Scan(dst), sql)
	}
	// Raw on purpose: every number below is counted from the rows themselves.
	q(`SELECT count(*) FROM contacts WHERE status <> 'erased'`, &r.contacts)
	q(`SELECT count(*) FROM contacts c WHERE c.status = 'active'
		AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.kind = 'address' AND x.value = c.email_key)
		AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.kind = 'domain' AND x.value = split_part(c.email_key, '@', 2))`, &r.sendable)
	q(`SELECT count(*) FROM contacts WHERE status <> 'erased' AND created_at >= $1`, &r.new7, today.AddDate(0, 0, -6))
	q(`SELECT count(*) FROM contacts WHERE status <> 'erased' AND created_at >= $1`, &r.new30, today.AddDate(0, 0, -29))
	q(`SELECT count(*) FROM deliveries WHERE status IN ('sent', 'bounced', 'complained') AND sent_at >= $1`, &r.sent, today.AddDate(0, 0, -29))
	q(`SELECT count(*) FROM deliveries WHERE status = 'bounced' AND sent_at >= $1`, &r.bounced, today.AddDate(0, 0, -29))
	q(`SELECT count(*) FROM events WHERE type = 'complaint' AND occurred_at >= $1`, &r.complaints, today.AddDate(0, 0, -29))
	q(`SELECT count(*) FROM deliveries WHERE campaign_id = $1`, &r.runningTotal, s.running)
	q(`SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, &r.runningSent, s.running)
	q(`SELECT count(*) FROM contact_scores WHERE churn_risk >= 0.5 AND value > 0`, &r.churn)
	q(`SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status IN ('sent', 'bounced', 'complained')`, &r.finishedSent, s.finished)
	q(`SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status IN ('sent', 'complained') AND first_click_at IS NOT NULL`, &r.finishedDeliveredClicked, s.finished)
	if r.sent > 0 {
		r.bounceRate = float64(r.bounced) / float64(r.sent)
	}
	if d := r.sent - r.bounced; d > 0 {
		r.complaintRate = float64(r.complaints) / float64(d)
	}
	return r
}

var dashMetric = regexp.MustCompile(`data-metric="(\w+)">([^<]*)<`)

// dashboardNumbers reads the data-metric values of the dashboard page.
func dashboardNumbers(body string) map[string][]string {
	out := map[string][]string{}
	for _, m := range dashMetric.FindAllStringSubmatch(body, -1) {
		out[m[1]] = append(out[m[1]], html.UnescapeString(m[2]))
	}
	return out
}

// TestDashboardAgainstRawRows builds the scenario through the owners'
// functions, the real engine and SMTP, then reads /admin as a manager and
// compares every number with a direct count over the raw rows.
func TestDashboardAgainstRawRows(t *testing.T) {
	t.Parallel()
	s := newDashboardScenario(t)
	raw := s.raw(t)
	// The scenario itself: sendable are the active contacts less hard@
	// (refused for good, so suppressed) and ok1@ (complained); a complained
	// delivery was handed to the mail server like a sent one.
	require.Equal(t, rawDashboard{contacts: 7, sendable: 4, new7: 5, new30: 6, sent: 3, bounced: 1, complaints: 1,
		runningTotal: 1, runningSent: 0, churn: raw.churn, bounceRate: 1.0 / 3, complaintRate: 0.5,
		finishedSent: 3, finishedDeliveredClicked: 0}, raw)
	require.Positive(t, raw.churn, "old@ is at churn risk")

	code, body := do(t, s.m, http.MethodGet, "/admin", s.manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	got := dashboardNumbers(body)
	n := func(v int64) []string { return []string{strconv.FormatInt(v, 10)} }
	pct := func(f float64) []string { return []string{fmt.Sprintf("%.1f%%", f*100)} }
	require.Equal(t, n(raw.contacts), got["contacts"])
	require.Equal(t, n(raw.sendable), got["sendable"])
	require.Equal(t, n(raw.new7), got["new7"])
	require.Equal(t, n(raw.new30), got["new30"])
	require.Equal(t, pct(raw.bounceRate), got["bounce_rate"])
	require.Equal(t, pct(raw.complaintRate), got["complaint_rate"])
	require.Contains(t, body, fmt.Sprintf("%d bounced of %d sent", raw.bounced, raw.sent))
	require.Contains(t, body, fmt.Sprintf("%d complaints of %d delivered", raw.complaints, raw.sent-raw.bounced))
	require.Contains(t, body, `<span data-level="bounce">bad</span>`, "33% of messages bounced: above 5%")
	require.Contains(t, body, `<span data-level="complaint">bad</span>`, "50% complained: above 0.3%")
	require.Equal(t, n(raw.churn), got["churn"])
	require.Equal(t, []string{fmt.Sprintf("%d of %d sent", raw.runningSent, raw.runningTotal)}, got["sent"], "only Summer is sending")
	require.Regexp(t, fmt.Sprintf(`data-campaign="%d">\s*<a href="/admin/campaigns/%d" dir="auto">Summer</a>`, s.running, s.running), body)
	require.Regexp(t, fmt.Sprintf(`data-campaign="%d">\s*<a href="/admin/campaigns/%d" dir="auto">Spring</a>`, s.finished, s.finished), body)
	// Spring's goals: reach (sent >= 2) is met by the raw count, clicks
	// (ctr >= 0.5) is not (nobody clicked).
	require.GreaterOrEqual(t, raw.finishedSent, int64(2))
	require.Zero(t, raw.finishedDeliveredClicked)
	require.Regexp(t, `<li class="goal met" data-goal-met="true"><strong dir="auto">reach</strong>: met`, body)
	require.Regexp(t, `<li class="goal pending" data-goal-met="false"><strong dir="auto">clicks</strong>: in progress`, body)
	require.Contains(t, body, fmt.Sprintf(`Sent is %d, target <bdi dir="ltr" class="mono goal-op">&gt;=</bdi> 2`, raw.finishedSent), "the metric by its label, the operator isolated")
	require.Contains(t, body, `Click rate is 0%, target <bdi dir="ltr" class="mono goal-op">&gt;=</bdi> 50%`)

	// The churn card counts what the analytics summary's churn list counts.
	sum, err := analytics.GetSummary(context.Background(), s.m.pool, 1)
	require.NoError(t, err)
	require.Equal(t, n(sum.ChurnRisk.Count), got["churn"])
}
