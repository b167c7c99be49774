package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/smtptest"
)

// TestSignupEntersAJourney: in the real server, a signup posted to
// POST /api/v1/events enters a running event journey (the engine is
// plugged into the events API) and its first step is sent; the entries
// API lists the entry for a read-only manager too.
func TestSignupEntersAJourney(t *testing.T) {
	t.Parallel()
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	m := testMain(t, "SMTP_URL", fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=1", sink.Port()))
	token := testToken(t, m, auth.RoleMarketer)

	code, body := do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{
		"name": "welcome", "subject": "Welcome", "html": `<p>Hello</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusCreated, code, body)
	var tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "Welcome", "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"entry": map[string]any{"type": "event", "event": "signup"},
		"steps": []map[string]any{{"key": "welcome", "template_id": tpl.ID}}})
	require.Equal(t, http.StatusCreated, code, body)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	id := fmt.Sprint(c.ID)
	// The admin form, which does not show the journey's fields yet, keeps
	// them when it saves the draft.
	code, body = builderPost(t, m, token, "en", "/admin/campaigns/"+id+"/edit", url.Values{"name": {"Welcome!"}, "channel": {"email"},
		"from.name": {"Shop"}, "from.email": {"news@shop.example"},
		"steps.count": {"1"}, "steps[0].key": {"welcome"}, "steps[0].template_id": {fmt.Sprint(tpl.ID)}})
	require.Equal(t, http.StatusSeeOther, code, body)
	var entryType string
	require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT entry->>'type' FROM campaigns WHERE id = $1`, c.ID).Scan(&entryType))
	require.Equal(t, "event", entryType)
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", token, nil)
	require.Equal(t, http.StatusOK, code, body)

	code, body = do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{"email": "new@example.com", "type": "signup"})
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool { return len(sink.Messages()) == 1 }, 30*time.Second, 20*time.Millisecond,
		"the welcome never went")
	require.Equal(t, []string{"new@example.com"}, sink.Messages()[0].To)
	// The event went through the events group commit, which /metrics counts.
	code, metrics := get(t, m.URL()+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, metrics, "peykar_event_group_commits_total 1\n")
	require.Contains(t, metrics, "peykar_event_group_events_total 1\n")
	require.Contains(t, metrics, "peykar_event_alone_total 0\n")
	// The welcome's outcome went through one send outcome group commit,
	// without waiting for room under the crash window's bound.
	require.Eventually(t, func() bool {
		_, metrics := get(t, m.URL()+"/metrics")
		return strings.Contains(metrics, "peykar_send_outcomes_flushed_total 1\n") &&
			strings.Contains(metrics, "peykar_send_outcome_flushes_total 1\n")
	}, 30*time.Second, 20*time.Millisecond, "the outcome's commit is counted")
	_, metrics = get(t, m.URL()+"/metrics")
	require.Contains(t, metrics, "peykar_send_reserve_waits_total 0\n")
	require.Contains(t, metrics, "peykar_send_reserve_wait_seconds_total 0\n")
	require.Contains(t, metrics, "peykar_send_outcome_flush_seconds_total ")

	manager := testToken(t, m, auth.RoleManager)
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/entries", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	var out struct {
		Items []struct {
			ContactID int64  `json:"contact_id"`
			Step      string `json:"step"`
			Status    string `json:"status"`
		} `json:"items"`
		Next string `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Len(t, out.Items, 1)
	require.Equal(t, "welcome", out.Items[0].Step)
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/pause", manager, nil)
	require.Equal(t, http.StatusForbidden, code, body)
}
