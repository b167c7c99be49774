package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestFaviconIsServed: /favicon.ico answers an icon without a login, and
// every page links the SVG icon, which is served too.
func TestFaviconIsServed(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	for path, typ := range map[string]string{"/favicon.ico": "image/x-icon", "/admin/assets/favicon.svg": "image/svg+xml"} {
		resp, err := http.Get(m.URL() + path)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), typ), "%s: %s", path, resp.Header.Get("Content-Type"))
		require.NotEmpty(t, b, path)
		if path == "/favicon.ico" {
			require.Equal(t, []byte{0, 0, 1, 0}, b[:4], "an ICO header")
		}
	}
	code, body := loginAs(t, m, "admin@example.com", "admin password 1").get("/admin/contacts")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<link rel="icon" href="/admin/assets/favicon.svg"`)
}

// TestUserAndTokenFormsDefaultToLeastPrivilege: the "Add user" and
// "Create token" forms preselect the manager role (read-only), and a form
// sent back with an error keeps the role that was chosen.
func TestUserAndTokenFormsDefaultToLeastPrivilege(t *testing.T) {
	t.Parallel()
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	admin := loginAs(t, m, "admin@example.com", "admin password 1")
	selected := regexp.MustCompile(`<select id="role" name="role">.*?<option value="(\w+)" selected>`)
	for _, page := range []string{"/admin/users", "/admin/tokens"} {
		code, body := admin.get(page)
		require.Equal(t, http.StatusOK, code, page)
		match := selected.FindStringSubmatch(body)
		require.NotNil(t, match, "%s preselects a role", page)
		require.Equal(t, string(auth.RoleManager), match[1], page)
	}
	// A refused form (no name) comes back with the role that was picked.
	code, body := admin.post("/admin/tokens", map[string][]string{"name": {""}, "role": {"marketer"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	match := selected.FindStringSubmatch(body)
	require.NotNil(t, match)
	require.Equal(t, "marketer", match[1])
}

// TestEveryCSVExportTakesBOM walks every CSV export in the route table
// (a path ending in .csv, and the analytics lists' ?format=csv): with
// ?bom=1 the body starts with a UTF-8 byte order mark (Excel then reads
// Persian as UTF-8), without it the body starts with the header line.
func TestEveryCSVExportTakesBOM(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleManager)
	marketer := testToken(t, m, auth.RoleMarketer)
	code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, map[string]any{"email": "sara@example.com", "name": "سارا"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/segments", marketer, map[string]any{"name": "all", "rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusCreated, code, body)
	var seg, tpl, cp struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &seg))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", marketer, map[string]any{"name": "t", "subject": "Hi", "html": `<p>Hi</p>`})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, map[string]any{
		"name": "c", "segment_id": seg.ID, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": tpl.ID}},
	})
	require.Equal(t, http.StatusCreated, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &cp))

	var exports []string
	for _, r := range m.echo.Routes() {
		// A bulk job's export (its BOM is tested with the job, in
		// campaigns/contacts TestBulkEachSelectorAndAction) needs a job.
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, ".csv") && !strings.HasPrefix(r.Path, "/api/v1/bulk/") {
			p := strings.NewReplacer(":id", "").Replace(r.Path)
			switch {
			case strings.HasPrefix(r.Path, "/api/v1/segments/"):
				p = fmt.Sprintf("/api/v1/segments/%d/contacts.csv", seg.ID)
			case strings.HasPrefix(r.Path, "/api/v1/campaigns/"):
				p = strings.Replace(r.Path, ":id", fmt.Sprint(cp.ID), 1)
			}
			require.NotContains(t, p, ":", "a CSV route this test does not know how to fill: %s", r.Path)
			exports = append(exports, p+"?")
		}
	}
	require.Len(t, exports, 5, "report, deliveries, links, segment contacts, standard report")
	for _, list := range []string{"analytics/rfm", "analytics/churn", "analytics/clusters", "analytics/anomalies", fmt.Sprintf("campaigns/%d/anomalies", cp.ID)} {
		exports = append(exports, "/api/v1/"+list+"?format=csv&")
	}
	for _, e := range exports {
		for _, bom := range []bool{false, true} {
			path := e
			if bom {
				path += "bom=1"
			}
			resp, err := getAuth(m.URL()+path, token)
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, b)
			require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv"), path)
			require.Equal(t, bom, bytes.HasPrefix(b, []byte("\uFEFF")), "%s: %q", path, b[:min(len(b), 12)])
		}
	}
}
