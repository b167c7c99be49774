package main

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// getLang GETs an admin page with an API token in the language lang.
func getLang(t *testing.T, m *Main, token, lang, path string) (int, string) {
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

// TestContactEditingPagesByRole: a marketer gets the add form, the editor,
// the bulk bar and the list's total; a manager reads the same pages without
// any of the editing; a bulk job's page renders in English and Persian with
// its numbers in the page's digits.
func TestContactEditingPagesByRole(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	var ids []int64
	for _, e := range []string{"a@example.com", "b@example.com"} {
		ids = append(ids, factory.Contact(t, m.pool, factory.Email(e), factory.Attr("city", "Tehran")).ID)
	}
	contact := "/admin/contacts/" + strconv.FormatInt(ids[0], 10)

	code, body := getLang(t, m, marketer, "en", "/admin/contacts")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="contacts-total" data-total="2">2 contacts<`)
	require.Contains(t, body, `id="bulk"`)
	require.Contains(t, body, `id="contact-add"`)
	require.Contains(t, body, `name="ids" value="`+strconv.FormatInt(ids[0], 10)+`"`)
	code, body = getLang(t, m, marketer, "en", contact)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `data-contact-edit`)
	require.Contains(t, body, `data-attrs="{&#34;city&#34;:&#34;Tehran&#34;}"`)
	code, body = getLang(t, m, marketer, "fa", "/admin/contacts/new")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "افزودن مخاطب")
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	code, body = getLang(t, m, manager, "en", "/admin/contacts")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `2 contacts`, "managers see the total")
	require.NotContains(t, body, `id="bulk"`)
	require.NotContains(t, body, `name="ids"`)
	require.NotContains(t, body, `id="contact-add"`)
	code, body = getLang(t, m, manager, "en", contact)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, `data-contact-edit`)
	code, _ = do(t, m, http.MethodPatch, "/api/v1/contacts/"+strconv.FormatInt(ids[0], 10), manager, map[string]any{"name": "x"})
	require.Equal(t, http.StatusForbidden, code)
	code, _ = do(t, m, http.MethodPost, "/api/v1/contacts/bulk", manager, map[string]any{"ids": ids, "action": "suppress"})
	require.Equal(t, http.StatusForbidden, code)

	// A bulk job's page, once it is done, in both languages.
	code, created := do(t, m, http.MethodPost, "/api/v1/contacts/bulk", marketer, map[string]any{"filter": map[string]any{}, "action": "suppress"})
	require.Equal(t, http.StatusAccepted, code, created)
	var jobID int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT max(id) FROM bulk_jobs`).Scan(&jobID))
	page := "/admin/bulk/" + strconv.FormatInt(jobID, 10)
	require.Eventually(t, func() bool {
		_, body := getLang(t, m, manager, "en", page)
		return strings.Contains(body, `data-state="finished"`)
	}, time.Minute, 50*time.Millisecond)
	code, body = getLang(t, m, manager, "en", page)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="bulk-done">2<`)
	code, body = getLang(t, m, manager, "fa", page)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="bulk-done">۲<`)
	require.Contains(t, body, "پایان‌یافته")
	require.NotRegexp(t, `!\w+\.\w+`, body)
}
