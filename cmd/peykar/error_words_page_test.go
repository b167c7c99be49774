package main

import (
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
}
