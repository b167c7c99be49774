package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestRawHTMLRefusedOnSave: a template whose visual design carries a raw
// HTML block with a script or an event handler is refused on save, by the
// API (422, field design, naming what) and by the admin form in English
// and Persian; nothing is saved.
func TestRawHTMLRefusedOnSave(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	design := `{"pages":[{"frames":[{"component":{"type":"wrapper","components":[{"type":"peykar-raw-html","raw":"<img src=\"a.png\" alt=\"a\" onerror=\"x()\"><script>alert(1)</script>"}]}}]}]}`
	html := `<p>Hi <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`

	code, body := do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{
		"name": "raw", "subject": "Hi", "html": html, "design": json.RawMessage(design)})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	var e struct {
		Error struct{ Field, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Equal(t, "design", e.Error.Field)
	require.Equal(t, "the raw HTML block cannot be saved: email cannot carry onerror on <img>, <script>", e.Error.Message)

	form := url.Values{"name": {"raw"}, "subject": {"Hi"}, "html": {html}, "design": {design}}
	code, body = builderPost(t, m, token, "en", "/admin/templates", form)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "The raw HTML block was not saved: email cannot carry onerror on &lt;img&gt;, &lt;script&gt;. Remove it and save again.")
	code, body = builderPost(t, m, token, "fa", "/admin/templates", form)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "بلوک HTML خام ذخیره نشد: ایمیل نمی‌تواند onerror on &lt;img&gt;, &lt;script&gt; را با خود ببرد.")

	var n int
	require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT count(*) FROM templates`).Scan(&n))
	require.Zero(t, n)
}
