package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestOperatorFrequencyCapExemptsTransactional: with PEYKAR_FREQUENCY_CAP
// 1/24h, a transactional message neither counts against the cap nor is
// held by it, the first campaign's message goes, and a second campaign's
// message to the same contact is held (and counted nowhere as sent). The
// timing settings round-trip through the API and are refused at their
// field.
func TestOperatorFrequencyCapExemptsTransactional(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t, "PEYKAR_FREQUENCY_CAP", "1/24h")
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	receipt := createTemplate(t, m, admin, map[string]any{"name": "receipt", "subject": "Receipt", "transactional": true,
		"html": `<p>Thanks.</p>`})
	news := createTemplate(t, m, admin, map[string]any{"name": "news", "subject": "News",
		"html": `<p>News. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, map[string]any{"email": "sara@example.com",
		"attributes": map[string]any{"timezone": "Asia/Tehran"}})
	require.Equal(t, http.StatusCreated, code, body)
	var contact struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &contact))
	sendReceipt := func(n int) {
		t.Helper()
		code, body, _ := postMessage(t, m, marketer, "", map[string]any{"template_id": receipt, "contact_id": contact.ID, "transactional": true})
		require.Equal(t, http.StatusAccepted, code, body)
		require.Equal(t, "sent", messageStatus(t, m, marketer, messageID(t, body))["status"])
		require.Len(t, caughtFor(t, m, marketer, "sara@example.com", n), n)
	}
	sendReceipt(1)

	code, body = do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]any{"name": "all", "rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusCreated, code, body)
	var seg struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &seg))
	campaign := func(name string, settings map[string]any) (int, string) {
		return do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, map[string]any{
			"name": name, "segment_id": seg.ID, "from": map[string]string{"name": "Shop", "email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": news}}, "settings": settings})
	}
	launch := func(name string) string {
		t.Helper()
		code, body := campaign(name, nil)
		require.Equal(t, http.StatusCreated, code, body)
		var c struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(body), &c))
		id := fmt.Sprint(c.ID)
		code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", marketer, nil)
		require.Less(t, code, 300, body)
		return id
	}
	launch("first")
	require.Len(t, caughtFor(t, m, marketer, "sara@example.com", 2), 2, "the receipt did not count against the cap")
	sendReceipt(3) // a transactional message is never held by the cap

	second := launch("second")
	require.Eventually(t, func() bool {
		var last string
		_ = m.pool.QueryRow(ctx, `SELECT last_error FROM deliveries WHERE campaign_id = $1`, second).Scan(&last)
		return last == "held by the frequency cap"
	}, 30*time.Second, 20*time.Millisecond)
	var toSara int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE 'sara@example.com' = ANY(rcpt_to)`).Scan(&toSara))
	require.Equal(t, 3, toSara, "the second campaign's message waits")

	// The settings round-trip, and mistakes name their field.
	code, body = campaign("timed", map[string]any{
		"send_time":     map[string]any{"local_time": "09:00", "default_timezone": "Asia/Tehran"},
		"quiet_hours":   map[string]any{"from": "22:00", "to": "08:00"},
		"frequency_cap": map[string]any{"max": 2, "per": "24h", "scope": "all", "action": "skip"}})
	require.Equal(t, http.StatusCreated, code, body)
	require.Contains(t, body, `"send_time":{"local_time":"09:00","default_timezone":"Asia/Tehran"}`)
	require.Contains(t, body, `"frequency_cap":{"max":2,"per":"24h","scope":"all","action":"skip"}`)
	require.Contains(t, body, `"quiet_hours":{"from":"22:00","to":"08:00"}`)
	code, body = campaign("bad", map[string]any{"quiet_hours": map[string]any{"from": "10pm", "to": "08:00"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, `"field":"settings.quiet_hours.from"`)
}
