package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestManagerPreviewsAndCounts: a manager (read-only) previews a saved
// template and a draft, previews a rule and counts a segment, and still
// may not change anything; a refusal names the role it needs, in JSON for
// the API and on a page in the page's language.
func TestManagerPreviewsAndCounts(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, map[string]any{"email": "sara@example.com", "name": "سارا", "attributes": map[string]any{"city": "Tehran"}})
	require.Equal(t, http.StatusCreated, code, body)
	var contact, seg, tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &contact))
	code, body = do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]any{"name": "Tehran", "rule": `contact.attributes.city == "Tehran"`})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &seg))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", marketer, map[string]any{"name": "hi", "subject": "Hi {{ .Contact.Name }}", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))

	code, body = do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/templates/%d/preview", tpl.ID), manager, map[string]any{"contact_id": contact.ID})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"subject":"Hi سارا"`)
	code, body = do(t, m, http.MethodPost, "/api/v1/templates/preview", manager, map[string]any{"subject": "Yo {{ .Contact.Name }}", "html": "<p>x</p>", "contact_id": contact.ID})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"subject":"Yo سارا"`)
	code, body = do(t, m, http.MethodPost, "/api/v1/segments/preview", manager, map[string]any{"rule": `contact.attributes.city == "Tehran"`})
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"count":1`)
	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/segments/%d/count", seg.ID), manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"count":1`)

	// Still read-only: saving, deleting and test-sending are refused, and
	// the refusal names the role needed.
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/api/v1/segments"},
		{http.MethodDelete, fmt.Sprintf("/api/v1/segments/%d", seg.ID)},
		{http.MethodPost, fmt.Sprintf("/api/v1/templates/%d/test", tpl.ID)},
	} {
		code, body = do(t, m, r.method, r.path, manager, map[string]any{"name": "x", "rule": "true", "to": "me@example.com"})
		require.Equal(t, http.StatusForbidden, code, "%s %s: %s", r.method, r.path, body)
		var e struct {
			Error struct{ Message, Role string }
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		require.Equal(t, "marketer", e.Error.Role, body)
		require.Equal(t, "the manager role may not do this: it needs the marketer role", e.Error.Message)
	}

	// The page's refusal, in Persian for the Persian UI.
	_, err := auth.CreateUser(context.Background(), m.pool, "boss@example.com", "manager password", auth.RoleManager)
	require.NoError(t, err)
	boss := loginAs(t, m, "boss@example.com", "manager password")
	u, err := url.Parse(m.URL())
	require.NoError(t, err)
	boss.client.Jar.SetCookies(u, []*http.Cookie{{Name: "peykar_lang", Value: "fa", Path: "/"}})
	code, body = boss.post("/admin/segments", url.Values{"name": {"x"}, "rule": {"true"}})
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "نقش شما (مدیر) اجازهٔ این کار را ندارد؛ این کار نقش «بازاریاب» را می‌خواهد.")
	// The page carries the same words for the API's refusals its scripts meet.
	code, body = boss.get("/admin/segments")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<meta name="msg-forbidden" content="نقش شما (%s)`)
	require.Contains(t, body, `data-role="مدیر" data-admin="مدیر سیستم" data-marketer="بازاریاب" data-manager="مدیر"`)
	boss.client.Jar.SetCookies(u, []*http.Cookie{{Name: "peykar_lang", Value: "en", Path: "/"}})
	code, body = boss.post("/admin/segments", url.Values{"name": {"x"}, "rule": {"true"}})
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "Your role (manager) may not do this: it needs the marketer role.")
}
