package main

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestCompilerMistakesInPersian: a segment rule and a template with
// mistakes, saved from the Persian admin pages, are explained in Persian
// (with the expression's position); the API still answers in English.
func TestCompilerMistakesInPersian(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)

	code, body := builderPost(t, m, token, "fa", "/admin/segments", url.Values{"name": {"x"}, "rule": {`contact.emial == "a"`}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "«emial» نامی نیست که این عبارت بشناسد. منظورتان contact.email بود؟")
	require.NotContains(t, body, "has no field")

	code, body = builderPost(t, m, token, "en", "/admin/segments", url.Values{"name": {"x"}, "rule": {`contact.emial == "a"`}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "&#39;emial&#39; is not a name this expression knows. Did you mean contact.email?")

	code, body = builderPost(t, m, token, "fa", "/admin/templates", url.Values{"name": {"x"}, "subject": {"Hi"}, "html": {"<p>{{ foo }}</p>"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "«foo» تابعی نیست که قالب‌ها بشناسند")
	require.NotContains(t, body, "not defined")

	code, body = do(t, m, http.MethodPost, "/api/v1/segments", token, map[string]any{"name": "x", "rule": `contact.emial == "a"`})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "has no field emial", "the API keeps the compiler's English")

	// The live previews ask the page's words for the API's message; a
	// manager (read-only) may ask too.
	manager := testToken(t, m, auth.RoleManager)
	q := url.Values{"kind": {"expr:segment"}, "message": {"type segments.contactEnv has no field emial"}, "placed": {"1"}}
	code, body = builderGet(t, m, manager, "fa", "/admin/words?"+q.Encode())
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"text":"«emial» نامی نیست که این عبارت بشناسد. منظورتان contact.email بود؟"}`, body)
	q = url.Values{"kind": {"template"}, "message": {"unclosed action"}, "placed": {"1"}}
	code, body = builderGet(t, m, manager, "en", "/admin/words?"+q.Encode())
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"text":"A {{ … }} is not closed: add the missing }}."}`, body)
	code, body = builderGet(t, m, manager, "en", "/admin/words?kind=sql&message=x")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
}

// builderGet gets an admin path with an API token in the language lang.
func builderGet(t *testing.T, m *Main, token, lang, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", lang)
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
