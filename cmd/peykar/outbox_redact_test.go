package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// trackedToken finds the tokens of tracked links in a message.
var trackedToken = regexp.MustCompile(`/t/[a-z]/([A-Za-z0-9_-]{16,})`)

// TestOutboxRedactsTokensForManagers sends a real campaign to the catch-all
// and reads the caught message through every outbox view: a marketer sees
// it as sent, working links and all; a manager (API token or session) sees
// its tracking tokens redacted, in the API's JSON and raw message and in
// the admin pages.
func TestOutboxRedactsTokensForManagers(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	id := sendOneCampaignMessage(t, m, marketer)

	// The marketer's view is the message as sent.
	code, raw := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d/raw", id), marketer, nil)
	require.Equal(t, http.StatusOK, code, raw)
	require.Regexp(t, `List-Unsubscribe: <http://peykar\.test/t/u/[A-Za-z0-9_-]{16,}>`, raw)
	code, body := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d", id), marketer, nil)
	require.Equal(t, http.StatusOK, code, body)
	var msg struct {
		Headers map[string][]string `json:"headers"`
		HTML    string              `json:"html"`
		Text    string              `json:"text"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &msg))
	var tokens []string
	for _, match := range trackedToken.FindAllStringSubmatch(msg.HTML+msg.Text+strings.Join(msg.Headers["List-Unsubscribe"], " "), -1) {
		tokens = append(tokens, match[1])
	}
	require.GreaterOrEqual(t, len(tokens), 4, "click, open, unsubscribe links in the message: %s", body)

	// The manager's views carry none of them.
	noTokens := func(where, s string) {
		t.Helper()
		for _, tok := range tokens {
			require.NotContains(t, s, tok, where)
		}
	}
	code, raw = do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d/raw", id), manager, nil)
	require.Equal(t, http.StatusOK, code, raw)
	noTokens("raw", unfoldQP(raw))
	require.Contains(t, raw, "List-Unsubscribe: <http://peykar.test/t/u/[redacted]>")
	require.Contains(t, raw, "Subject: Hello Sara", "the rest of the message is as sent")

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d", id), manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	noTokens("json", body)
	require.NoError(t, json.Unmarshal([]byte(body), &msg))
	require.Equal(t, []string{"<http://peykar.test/t/u/[redacted]>"}, msg.Headers["List-Unsubscribe"])
	require.Contains(t, msg.HTML, `href="http://peykar.test/t/c/[redacted]"`)
	require.Contains(t, msg.HTML, `http://peykar.test/t/o/[redacted]`)
	require.Contains(t, msg.Text, "http://peykar.test/t/c/[redacted]")
	code, body = do(t, m, http.MethodGet, "/api/v1/outbox", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"subject":"Hello Sara"`)

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/outbox/%d/html", id), manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	noTokens("page html", body)
	require.Contains(t, body, "/t/c/[redacted]")
	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/outbox/%d/html", id), marketer, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, tokens[0], "a marketer's links work")

	// A manager logged in with a session sees the page redacted, and why.
	ctx := context.Background()
	u, err := auth.CreateUser(ctx, m.pool, "boss@example.com", "manager password", auth.RoleManager)
	require.NoError(t, err)
	session, err := auth.CreateSession(ctx, m.pool, u.ID, time.Hour)
	require.NoError(t, err)
	for _, path := range []string{fmt.Sprintf("/admin/outbox/%d", id), fmt.Sprintf("/admin/outbox/%d/html", id), fmt.Sprintf("/api/v1/outbox/%d/raw", id)} {
		req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
		code, body := readResponse(t, req)
		require.Equal(t, http.StatusOK, code, path)
		noTokens(path, unfoldQP(body))
		require.Contains(t, body, "[redacted]", path)
	}
	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/outbox/%d", id), marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "counts as a click", "a marketer is told the links are live")
	require.NotContains(t, body, "shown as [redacted]")
}

// sendOneCampaignMessage launches a one-recipient campaign with a tracked
// link and returns the id of the message the catch-all caught.
func sendOneCampaignMessage(t *testing.T, m *Main, token string) int64 {
	t.Helper()
	var created struct {
		ID int64 `json:"id"`
	}
	post := func(path string, body any) int64 {
		t.Helper()
		code, resp := do(t, m, http.MethodPost, path, token, body)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, code, resp)
		require.NoError(t, json.Unmarshal([]byte(resp), &created), resp)
		return created.ID
	}
	post("/api/v1/contacts", map[string]any{"email": "sara@example.com", "name": "Sara"})
	tpl := post("/api/v1/templates", map[string]string{"name": "t", "subject": "Hello {{ .Contact.Name }}",
		"html": `<p>Hi</p><a href="https://shop.example/pricing">Pricing</a><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`, "text": "Hi, see https://shop.example/pricing"})
	seg := post("/api/v1/segments", map[string]string{"name": "all", "rule": "true"})
	c := post("/api/v1/campaigns", map[string]any{"name": "c", "segment_id": seg, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": tpl}}})
	post(fmt.Sprintf("/api/v1/campaigns/%d/launch", c), nil)
	var id int64
	require.Eventually(t, func() bool {
		err := m.pool.QueryRow(context.Background(), `SELECT id FROM outbox_messages WHERE 'sara@example.com' = ANY(rcpt_to)`).Scan(&id)
		return err == nil
	}, time.Minute, 10*time.Millisecond, "the campaign's message reaches the catch-all")
	return id
}

func readResponse(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// unfoldQP undoes quoted-printable soft line breaks, so a token wrapped
// across lines of a raw message is still found.
func unfoldQP(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "=\r\n", ""), "=\n", "")
}
