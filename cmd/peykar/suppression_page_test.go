package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestSuppressionPage: marketers add and remove suppressed addresses and
// domains, bad input is shown next to the field, managers only read.
func TestSuppressionPage(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	post := func(token, path string, form url.Values) (int, string) { return postForm(t, m, token, path, form) }

	code, body := do(t, m, http.MethodGet, "/admin/suppressions", marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Nothing is suppressed by hand")

	code, _ = post(marketer, "/admin/suppressions", url.Values{"value": {"@Spam.Example"}, "reason": {"spam trap"}})
	require.Equal(t, http.StatusSeeOther, code)
	code, body = post(marketer, "/admin/suppressions", url.Values{"value": {"not an address@"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="value-err"`)
	require.Contains(t, body, `value="not an address@"`, "the input is kept")
	code, body = post(marketer, "/admin/suppressions", url.Values{"value": {"spam.example"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, "already suppressed")
	require.Contains(t, body, "already suppressed")

	code, body = do(t, m, http.MethodGet, "/admin/suppressions", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "spam.example")
	require.Contains(t, body, "spam trap")
	require.NotContains(t, body, `action="/admin/suppressions"`, "no add form for a manager")
	code, _ = post(manager, "/admin/suppressions", url.Values{"value": {"x.example"}})
	require.Equal(t, http.StatusForbidden, code)

	var id int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT id FROM suppressions WHERE value = 'spam.example'`).Scan(&id))
	code, _ = post(manager, "/admin/suppressions/"+strconv.FormatInt(id, 10)+"/delete", nil)
	require.Equal(t, http.StatusForbidden, code)
	code, _ = post(marketer, "/admin/suppressions/"+strconv.FormatInt(id, 10)+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, code)
	code, body = do(t, m, http.MethodGet, "/admin/suppressions", marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "spam.example")
	code, _ = post(marketer, "/admin/suppressions/"+strconv.FormatInt(id, 10)+"/delete", nil)
	require.Equal(t, http.StatusNotFound, code)
}
