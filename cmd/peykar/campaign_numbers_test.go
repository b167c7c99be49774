package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/smtptest"
)

// TestCampaignPagesAgainstRawRows runs a campaign for real (Main on :0, a
// real SMTP server) in which one recipient cannot be rendered (failed), one
// is refused for good (bounced), one is refused for now until the campaign
// is cancelled (skipped) and two receive it and buy in two currencies. The
// API report, the admin campaign page and the live report page show the
// counts, the reasons and the money that a direct count over the raw
// deliveries and transactions rows gives.
func TestCampaignPagesAgainstRawRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sink, err := smtptest.Start(smtptest.Options{Reject: func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case "hard@example.com":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "later@example.com":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	m := testMain(t, "SMTP_URL", fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=1", sink.Port()))
	token := testToken(t, m, auth.RoleMarketer)
	id := launchNumbersCampaign(t, m, token)

	// Wait for every outcome but later@'s, which stays queued for a retry.
	require.Eventually(t, func() bool {
		var final, tried int
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status <> 'queued'),
				count(*) FILTER (WHERE status = 'queued' AND attempts >= 1)
			FROM deliveries WHERE campaign_id = $1`, id).Scan(&final, &tried))
		return final == 4 && tried == 1
	}, time.Minute, 20*time.Millisecond)
	code, body := do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/cancel", token, nil)
	require.Less(t, code, 300, body)
	require.Eventually(t, func() bool {
		var queued int
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'queued'`, id).Scan(&queued))
		return queued == 0
	}, time.Minute, 20*time.Millisecond)

	for _, p := range []struct {
		email, currency string
		value           float64
	}{{"ok1@example.com", "EUR", 590}, {"ok2@example.com", "JPY", 10000}, {"ok2@example.com", "EUR", 10.5}} {
		code, body := do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{
			"email": p.email, "type": "purchase", "value": p.value, "currency": p.currency, "campaign_id": json.Number(id)})
		require.Equal(t, http.StatusAccepted, code, body)
	}

	raw := rawCampaignNumbers(t, m, id)
	require.Equal(t, map[string]int64{"sent": 2, "bounced": 1, "failed": 1, "skipped": 1}, raw.byStatus, "the scenario itself")
	require.Equal(t, map[string]float64{"EUR": 600.5, "JPY": 10000}, raw.revenue, "the scenario itself")

	// The report's send counters lag the deliveries by one send fold
	// (docs/metrics.md): settle it before comparing with the raw rows.
	settle, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, m.engine.SettleSends(settle))
	var r campaigns.Report
	require.Eventually(t, func() bool {
		code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/report", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		r = campaigns.Report{}
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		return len(r.Metrics.RevenueByCurrency) == 2 && r.Metrics.Revenue == raw.revenue["EUR"]
	}, time.Minute, 20*time.Millisecond, "the purchases reach the report")
	requireProgressMatchesRows(t, r.Progress, raw)
	require.Equal(t, raw.revenue, r.Metrics.RevenueByCurrency)
	require.Equal(t, "EUR", r.Metrics.Currency)
	require.Equal(t, raw.delivered, r.Metrics.RecipientsDelivered)
	require.InDelta(t, raw.revenue["EUR"]/float64(raw.delivered), r.Metrics.RevenuePerRecipient, 1e-9)

	eur := fmt.Sprintf("€%.2f", raw.revenue["EUR"])
	perRecipient := fmt.Sprintf("€%.2f", raw.revenue["EUR"]/float64(raw.delivered))
	require.Equal(t, "€600.50", eur)
	require.Equal(t, "€300.25", perRecipient)

	code, page := do(t, m, http.MethodGet, "/admin/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, `<div class="card" id="card-revenue"><div class="value">`+eur+`</div>`)
	require.Contains(t, page, `id="revenue-other">In other currencies (not added): <span>¥10,000</span>`)
	require.Contains(t, page, `<div class="card" id="card-revenue-per-recipient"><div class="value">`+perRecipient+`</div>`)
	require.Contains(t, page, fmt.Sprintf(`<span id="sent-count">%d</span> / %d`, raw.byStatus["sent"], raw.total))
	require.Contains(t, page, fmt.Sprintf(`<span id="bounced-count">%d bounced</span>`, raw.byStatus["bounced"]))
	require.Contains(t, page, fmt.Sprintf(`<span id="failed-count">%d failed</span>`, raw.byStatus["failed"]))
	require.Contains(t, page, fmt.Sprintf(`<span id="skipped-count">%d skipped</span>`, raw.byStatus["skipped"]))
	require.NotContains(t, page, `id="eta"`, "a cancelled campaign has no ETA")
	require.NotContains(t, page, `id="left"`, "a cancelled campaign has nothing left")
	for k, n := range raw.reasons {
		require.Contains(t, page, fmt.Sprintf(`<span class="badge">%s</span> %d — <bdi class="mono" dir="ltr">%s</bdi>`,
			k.status, n, template.HTMLEscapeString(k.reason)), "admin page reason %v", k)
	}

	code, live := do(t, m, http.MethodGet, "/admin/campaigns/"+id+"/live", token, nil)
	require.Equal(t, http.StatusOK, code, live)
	require.Contains(t, live, `<div class="value" data-metric="revenue">`+eur+`</div>`)
	require.Contains(t, live, `<div class="hint" id="revenue-other">In other currencies (not added): ¥10,000</div>`)
	require.Contains(t, live, `<div class="value" data-metric="revenue_per_recipient">`+perRecipient+`</div>`)
	require.Contains(t, live, fmt.Sprintf(`<div class="value" data-metric="delivered">%d</div>`, raw.delivered))
	for k, n := range raw.reasons {
		require.Contains(t, live, fmt.Sprintf(`<span class="badge">%s</span> %d — <bdi class="mono" dir="ltr">%s</bdi>`,
			k.status, n, template.HTMLEscapeString(k.reason)), "live page reason %v", k)
	}
}

// launchNumbersCampaign creates five contacts (nocode@ lacks the attribute
// the template needs), a campaign in EUR to all of them, and launches it.
func launchNumbersCampaign(t *testing.T, m *Main, token string) string {
	t.Helper()
	for _, name := range []string{"ok1", "ok2", "hard", "later", "nocode"} {
		attrs := map[string]any{"code": "C-" + name}
		if name == "nocode" {
			attrs = map[string]any{}
		}
		code, body := do(t, m, http.MethodPost, "/api/v1/contacts", token, map[string]any{"email": name + "@example.com", "attributes": attrs})
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", token, map[string]any{"name": "all", "rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusCreated, code, body)
	var seg, tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &seg))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{"name": "t", "subject": "Hi", "html": `<p>Your code {{ .Contact.Attributes.code }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "numbers", "segment_id": seg.ID, "channel": "email",
		"from":     map[string]string{"name": "Shop", "email": "news@shop.example"},
		"settings": map[string]any{"currency": "EUR"},
		"steps":    []map[string]any{{"key": "main", "template_id": tpl.ID}},
	})
	require.Equal(t, http.StatusCreated, code, body)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	id := fmt.Sprint(c.ID)
	// The pre-send checks see the contact without the attribute and say
	// which share; the marketer launches anyway, accepting that check.
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", token, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, `missing for 20% of the audience (1 of 5 contacts checked)`)
	require.Contains(t, body, `"check":"fields"`)
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", token, map[string]any{"accept": []string{"fields"}})
	require.Less(t, code, 300, body)
	return id
}

// reasonKey is one (status, reason) pair of failed or skipped deliveries.
type reasonKey struct{ status, reason string }

// rawNumbers is what a direct count over a campaign's raw rows gives.
type rawNumbers struct {
	total     int64
	byStatus  map[string]int64
	delivered int64
	reasons   map[reasonKey]int64
	revenue   map[string]float64
}

// rawCampaignNumbers counts the campaign's deliveries and attributed
// transactions directly.
func rawCampaignNumbers(t *testing.T, m *Main, id string) rawNumbers {
	t.Helper()
	ctx := context.Background()
	raw := rawNumbers{byStatus: map[string]int64{}, reasons: map[reasonKey]int64{}, revenue: map[string]float64{}}
	rows, err := m.pool.Query(ctx, `SELECT status, last_error FROM deliveries WHERE campaign_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var status, reason string
		require.NoError(t, rows.Scan(&status, &reason))
		raw.total++
		raw.byStatus[status]++
		if status == "failed" || status == "skipped" {
			require.NotEmpty(t, reason, "a %s delivery records why", status)
			require.NotContains(t, reason, "+", "compared as html/template escapes text")
			raw.reasons[reasonKey{status, reason}]++
		}
	}
	require.NoError(t, rows.Err())
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(DISTINCT contact_id) FROM deliveries WHERE campaign_id = $1 AND status = 'sent'`, id).Scan(&raw.delivered))
	rows, err = m.pool.Query(ctx, `SELECT upper(btrim(t.currency)), sum(t.value)::float8 FROM transactions t
		JOIN deliveries d ON d.id = t.delivery_id WHERE d.campaign_id = $1 GROUP BY 1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var cur string
		var v float64
		require.NoError(t, rows.Scan(&cur, &v))
		raw.revenue[cur] = v
	}
	require.NoError(t, rows.Err())
	return raw
}

// requireProgressMatchesRows checks the API's progress against raw rows.
func requireProgressMatchesRows(t *testing.T, p campaigns.Progress, raw rawNumbers) {
	t.Helper()
	require.Equal(t, raw.total, p.Total)
	require.Equal(t, raw.byStatus["sent"], p.Sent)
	require.Equal(t, raw.byStatus["bounced"], p.Bounced)
	require.Equal(t, raw.byStatus["failed"], p.Failed)
	require.Equal(t, raw.byStatus["skipped"], p.Skipped)
	require.Zero(t, p.Remaining)
	require.Nil(t, p.EstimatedFinish)
	got := map[reasonKey]int64{}
	for _, r := range p.Reasons {
		got[reasonKey{r.Status, r.Reason}] = r.Count
	}
	require.Equal(t, raw.reasons, got)
	require.Contains(t, raw.reasons, reasonKey{"skipped", "campaign cancelled"})
}
