package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestJalaliDateFields: in the Persian UI a goal's target date and the
// reports' from and to take Jalali dates (Persian or ASCII digits) and
// show them back in Jalali; what is stored and sent to the API is the
// Gregorian date, as before. A wrong date is refused in Persian, and
// nothing is saved.
func TestJalaliDateFields(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	goal := func(date string) url.Values {
		return url.Values{"name": {"Azar"}, "channel": {"email"}, "goals.count": {"1"},
			"goals[0].name": {"reach"}, "goals[0].when": {"sent >= 1"}, "goals[0].target_date": {date}}
	}

	code, body := builderPost(t, m, token, "fa", "/admin/campaigns/new", goal("۱۴۰۵/۰۹/۳۱"))
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "تاریخ را به شکل ۱۴۰۵/۰۹/۱۵ بنویسید", "Azar has 30 days")
	_, list := do(t, m, http.MethodGet, "/api/v1/campaigns", token, nil)
	require.NotContains(t, list, "Azar", "nothing saved")

	code, body = builderPost(t, m, token, "fa", "/admin/campaigns/new", goal("۱۴۰۵/۰۹/۲۰"))
	require.Equal(t, http.StatusSeeOther, code, body)
	id := strings.TrimPrefix(body[:strings.Index(body+"<", "<")], "/admin/campaigns/")
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var cp struct {
		Goals []struct {
			TargetDate time.Time `json:"target_date"`
		} `json:"goals"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cp))
	require.Len(t, cp.Goals, 1)
	require.Equal(t, time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC), cp.Goals[0].TargetDate, "1405/09/20 is 11 December 2026")

	edit := func(lang string) string {
		req, err := http.NewRequest(http.MethodGet, m.URL()+"/admin/campaigns/"+id+"/edit", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Language", lang)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return readAll(t, resp)
	}
	require.Contains(t, edit("fa"), `name="goals[0].target_date" type="text" value="۱۴۰۵/۰۹/۲۰"`)
	require.Contains(t, edit("en"), `name="goals[0].target_date" type="date" value="2026-12-11"`)

	// The reports: Jalali from and to, the standard report and its CSV for
	// the Gregorian days they name.
	req, err := http.NewRequest(http.MethodGet, m.URL()+"/admin/reports?from="+url.QueryEscape("۱۴۰۵/۰۹/۰۱")+"&to=1405/09/15", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", "fa")
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	body = readAll(t, resp)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `id="r-from" name="from" value="۱۴۰۵/۰۹/۰۱"`)
	require.Contains(t, body, `id="r-to" name="to" value="۱۴۰۵/۰۹/۱۵"`)
	require.Contains(t, body, "/api/v1/reports/standard.csv?bom=1&amp;from=2026-11-22&amp;to=2026-12-06")
	code, body = do(t, m, http.MethodGet, "/admin/reports?from=2026-11-22&to=2026-12-06", token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="r-from" name="from" value="2026-11-22"`, "English keeps the Gregorian date")
}
