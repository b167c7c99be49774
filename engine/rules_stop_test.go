package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/httpapi"
)

// campaignAPI serves the campaign API (/api/v1/campaigns…) for b.
func (b *bundle) campaignAPI(t *testing.T) *httptest.Server {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(b.svc.Logger)
	b.svc.Routes(e.Group("/api/v1"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func callJSON(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out
}

// deliveryStatus is the status of the contact's delivery of step.
func (b *bundle) deliveryStatus(t *testing.T, campaignID int64, email, step string) string {
	t.Helper()
	var s string
	err := b.pool.QueryRow(context.Background(), `SELECT d.status FROM deliveries d JOIN contacts c ON c.id = d.contact_id
		WHERE d.campaign_id = $1 AND c.email = $2 AND d.step = $3`, campaignID, email, step).Scan(&s)
	if err != nil {
		return ""
	}
	return s
}

// A finished campaign's rules keep firing until rules_until; the marketer
// stops them by cancelling it: queued follow-ups are skipped, later events
// fire nothing, finished_at and the report's sends stay.
func TestCancelFinishedCampaignStopsRules(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	srv := b.trackingServer(t)
	api := b.campaignAPI(t)
	c := b.seed(t, 2, 0)
	offer := b.followUpTemplate(t)
	c.Steps = append(c.Steps, campaigns.Step{Key: "offer", TemplateID: offer})
	c.Rules = []campaigns.Rule{{Name: "clicked", On: "click", Actions: []campaigns.Action{{Type: "send", Step: "offer", Delay: "1h"}}}}
	require.NoError(t, b.svc.Update(ctx, &c))
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	base := fmt.Sprintf("%s/api/v1/campaigns/%d", api.URL, c.ID)

	code, got := callJSON(t, http.MethodGet, base, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, true, got["rules_active"], "a finished campaign's rules still fire")
	require.NotEmpty(t, got["rules_end"])
	finishedAt := got["finished_at"]
	require.NotEmpty(t, finishedAt)

	// Its rules can still be edited (not its audience).
	got["rules"] = []map[string]any{{"name": "clicked", "on": "click", "actions": []map[string]any{{"type": "send", "step": "offer", "delay": "2h"}}}}
	code, upd := callJSON(t, http.MethodPut, base, got)
	require.Equal(t, http.StatusOK, code, upd)

	b.click(t, srv, "user0@example.com", "Pricing")
	require.Eventually(t, func() bool { return b.deliveryStatus(t, c.ID, "user0@example.com", "offer") == "queued" }, 20*time.Second, 20*time.Millisecond)

	code, got = callJSON(t, http.MethodPost, base+"/cancel", nil)
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, campaigns.StatusCancelled, got["status"])
	require.Equal(t, false, got["rules_active"])
	require.Equal(t, finishedAt, got["finished_at"], "finished_at stays when the sends were done")
	require.Equal(t, "skipped", b.deliveryStatus(t, c.ID, "user0@example.com", "offer"), "the queued follow-up is skipped")

	// Later events fire nothing.
	b.click(t, srv, "user1@example.com", "Pricing")
	b.waitSettled(t, c.ID, "rules")
	require.Empty(t, b.deliveryStatus(t, c.ID, "user1@example.com", "offer"))
	var firings int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM rule_firings WHERE campaign_id = $1`, c.ID).Scan(&firings))
	require.Equal(t, 1, firings)

	r, err := b.svc.Report(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 2, r.Metrics.Sent, "the report still shows the sends")
	b.requireCountersMatch(t, c.ID)

	// A cancelled campaign cannot be cancelled again.
	code, _ = callJSON(t, http.MethodPost, base+"/cancel", nil)
	require.Equal(t, http.StatusConflict, code)
}
