package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestAdminPagesRender GETs every page an admin and a manager see, empty.
func TestAdminPagesRender(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	admin := testToken(t, m, auth.RoleAdmin)
	manager := testToken(t, m, auth.RoleManager)
	pages := map[string]string{
		"/admin/campaigns":       "No campaigns yet",
		"/admin/outbox":          "No messages caught yet",
		"/admin/users":           "Add a user",
		"/admin/tokens":          "test admin",
		"/admin/contacts":        "No contacts yet",
		"/admin/contacts/import": "Upload and import",
		"/admin/segments":        "No segments yet",
		"/admin/segments/new":    "Matching contacts",
		"/admin/templates":       "No templates yet",
		"/admin/templates/new":   "Preview for",
		"/admin/campaigns/new":   "There are no segments yet",
	}
	for path, want := range pages {
		code, body := do(t, m, http.MethodGet, path, admin, nil)
		require.Equal(t, http.StatusOK, code, path)
		require.Contains(t, body, want, path)
		require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue on %s", path)
	}
	code, body := do(t, m, http.MethodGet, "/admin/campaigns", manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "New campaign", "managers are not offered editing")
	code, body = do(t, m, http.MethodGet, "/admin/users", manager, nil)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "Your role (manager) may not do this", "a page, not JSON")
	code, _ = do(t, m, http.MethodGet, "/admin/campaigns/999", admin, nil)
	require.Equal(t, http.StatusNotFound, code)
	// /admin is the dashboard (empty here); the campaign list stays at /admin/campaigns.
	for _, path := range []string{"/admin", "/admin/"} {
		code, body = do(t, m, http.MethodGet, path, manager, nil)
		require.Equal(t, http.StatusOK, code, path)
		require.Contains(t, body, "No campaign is sending now.", path)
		require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue on %s", path)
	}
}

// TestPageFormsValidate posts the editors' forms (with an API token, so
// without CSRF) and checks errors come back next to their field.
func TestPageFormsValidate(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	post := func(path string, form url.Values) (int, string) { return postForm(t, m, token, path, form) }
	code, body := post("/admin/segments", url.Values{"name": {"bad"}, "rule": {"contact.emial == 1"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `id="rule-err"`)
	require.Contains(t, body, "emial")

	code, body = post("/admin/segments", url.Values{"name": {"همه"}, "rule": {"true"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	require.Contains(t, body, "/admin/segments/")

	code, body = post("/admin/templates", url.Values{"name": {"welcome"}, "subject": {"Hi {{ .Contact.Name }}"}, "html": {"<p>Hi</p>"}})
	require.Equal(t, http.StatusSeeOther, code, body)

	code, body = post("/admin/campaigns/new", url.Values{"name": {"spring"}, "channel": {"email"}, "throttle_per_second": {"fast"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, "must be a number of messages per second")

	// A rule whose condition does not compile: the error shows next to it,
	// with the rule as typed.
	code, body = post("/admin/campaigns/new", url.Values{"name": {"spring"}, "channel": {"email"},
		"steps[0].key": {"main"}, "steps[0].template_id": {"1"}, "rules.count": {"2"},
		"rules[1].name": {"pricing"}, "rules[1].on": {"click"}, "rules[1].when": {`event.link.url contians "/pricing"`},
		"rules[1].actions.count": {"1"}, "rules[1].actions[0].type": {"add_tag"}, "rules[1].actions[0].tag": {"hot"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `href="#f-rules%5b0%5d.when"`, "the empty first row is skipped: the rule is rules[0]")
	require.Regexp(t, `name="rules\[0\]\.when" value="event.link.url contians &#34;/pricing&#34;"[^>]*>\s*<span id="e-rules\[0\].when" class="field-error">The condition of rule &#39;pricing&#39; has a mistake at line 1, column \d+`, body)
	require.Contains(t, body, `name="rules[0].actions[0].tag" value="hot"`)

	code, body = post("/admin/campaigns/new", url.Values{"name": {""}, "channel": {"email"}})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, `href="#f-name"`)
}

// TestPersianPages serves the Persian catalogue right to left to a browser
// that asks for it, with English for what is not translated yet.
func TestPersianPages(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	req, err := http.NewRequest(http.MethodGet, m.URL()+"/admin/login", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "fa-IR,fa;q=0.9,en;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), `<html lang="fa" dir="rtl">`)
	require.Contains(t, string(b), "ورود")
	code, body := get(t, m.URL()+"/admin/login")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `<html lang="en" dir="ltr">`)
	require.Contains(t, body, `data-lang="fa"`, "every page offers the language switch")

	// The language picked in the switcher (a cookie) wins over the browser's.
	req, err = http.NewRequest(http.MethodGet, m.URL()+"/admin/login", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "en-US,en;q=0.9")
	req.AddCookie(&http.Cookie{Name: "peykar_lang", Value: "fa"})
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(b), `<html lang="fa" dir="rtl">`)
	require.Regexp(t, `data-lang="fa"[^>]*aria-current="true"`, string(b))
}

// TestAnalyticsPage renders the analytics page for a manager: first empty
// (saying what to do), then with a few buyers after a recompute, with a
// filled RFM grid, the four questions and the CSV exports.
func TestAnalyticsPage(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	manager := testToken(t, m, auth.RoleManager)
	marketer := testToken(t, m, auth.RoleMarketer)

	code, body := do(t, m, http.MethodGet, "/admin/analytics", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "No purchases yet")
	require.Contains(t, body, "POST /api/v1/events")
	require.NotContains(t, body, "Recompute now", "managers cannot recompute")
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	now := time.Now().UTC()
	for i := 1; i <= 6; i++ {
		email := fmt.Sprintf("buyer%d@example.com", i)
		code, body := do(t, m, http.MethodPost, "/api/v1/contacts", marketer, map[string]any{"email": email, "name": fmt.Sprintf("خریدار %d", i)})
		require.Equal(t, http.StatusCreated, code, body)
		for p := 0; p < i; p++ {
			at := now.Add(-time.Duration(i*10+p) * 24 * time.Hour)
			code, body := do(t, m, http.MethodPost, "/api/v1/events", marketer, map[string]any{"email": email, "type": "purchase", "value": 10 * i, "occurred_at": at})
			require.Less(t, code, 300, body)
		}
	}
	_, err := analytics.Recompute(context.Background(), m.pool, analytics.Config{}, nil)
	require.NoError(t, err)

	code, body = do(t, m, http.MethodGet, "/admin/analytics", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, "No purchases yet")
	for _, want := range []string{"Most valuable", "Loyal", "About to churn", "Likely to respond", `id="rfm-grid"`,
		"6 buyers in the grid", "/api/v1/analytics/rfm?format=csv", "/api/v1/analytics/churn?format=csv",
		"/api/v1/analytics/clusters?format=csv", "/api/v1/analytics/anomalies?format=csv", `dir="auto">خریدار 6</a>`,
		`aria-current="page">Analytics`} {
		require.Contains(t, body, want)
	}
	require.Regexp(t, regexp.MustCompile(`data-count="[1-9]`), body, "the RFM grid has buyers")
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	code, body = do(t, m, http.MethodGet, "/admin/analytics", marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Recompute now")
}

// TestReportsPage sends two small campaigns, then renders the reports page
// for a manager: the standard report counts their sends, the comparison
// shows both side by side, the campaign page draws its timeline chart, and
// a bad date is shown on the page.
func TestReportsPage(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	manager := testToken(t, m, auth.RoleManager)
	marketer := testToken(t, m, auth.RoleMarketer)

	code, body := do(t, m, http.MethodGet, "/admin/reports", manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{"Standard report", "Sendable now (active, not suppressed)", "/api/v1/reports/standard.csv?bom=1&amp;from=", "No campaigns have been launched yet", `aria-current="page">Reports`} {
		require.Contains(t, body, want)
	}
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	for i := 1; i <= 5; i++ {
		factory.Contact(t, m.pool, factory.Email(fmt.Sprintf("r%d@example.com", i)), factory.Name(fmt.Sprintf("R %d", i)))
	}
	segID := factory.Segment(t, m.pool, factory.SegmentName("همه")).ID
	tplID := factory.Template(t, m.pool, factory.HTML(`<p>Hi</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`)).ID
	var ids []string
	for _, name := range []string{"spring sale", "حراج پاییز"} {
		code, body := do(t, m, http.MethodPost, "/api/v1/campaigns", marketer, map[string]any{
			"name": name, "segment_id": segID, "channel": "email",
			"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": tplID}},
		})
		require.Equal(t, http.StatusCreated, code, body)
		id := regexp.MustCompile(`"id":(\d+)`).FindStringSubmatch(body)[1]
		code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/"+id+"/launch", marketer, nil)
		require.Less(t, code, 300, body)
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.Eventually(t, func() bool {
			_, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, marketer, nil)
			return strings.Contains(body, `"status":"finished"`)
		}, time.Minute, 20*time.Millisecond)
	}

	code, body = do(t, m, http.MethodGet, fmt.Sprintf("/admin/reports?segment_id=%d&compare=%s", segID, strings.Join(ids, ",")), manager, nil)
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{`id="comparison"`, `dir="auto">spring sale</a>`, `dir="auto">حراج پاییز</a>`,
		"/api/v1/campaigns/" + ids[0] + "/report.csv", "/admin/reports/compare?ids=" + ids[0] + "%2c" + ids[1],
		fmt.Sprintf("segment_id=%d", segID), `<div class="value">10</div><div class="label">Sent</div>`,
		`id="cmp-` + ids[1] + `" checked`} {
		require.Contains(t, body, want)
	}
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+ids[0], manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="campaign-chart"`)
	require.Regexp(t, `<(polyline|circle) class="series-sends"`, body, "the timeline chart is drawn (a dot while all sends fall in one interval)")

	code, body = do(t, m, http.MethodGet, "/admin/reports?from=yesterday", manager, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body, "is not a date")
	require.Contains(t, body, `id="standard-form"`, "the form stays to fix the date")
}

// postForm posts an editor's form with an API token (no CSRF needed).
func postForm(t *testing.T, m *Main, token, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(b)
}

// TestCampaignPageActionsAndForm: the campaign form keeps every goal (rows
// grow) with its target date and any number of steps; the campaign page
// offers the actions its status allows, with confirmations, shows each
// rule's fired/failed counts and last error and the campaign's anomaly
// flags; a launched campaign's Edit changes only what may change.
func TestCampaignPageActionsAndForm(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	token := testToken(t, m, auth.RoleMarketer)
	for i := range 3 {
		code, body := do(t, m, http.MethodPost, "/api/v1/contacts", token, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)})
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", token, map[string]any{"name": "all", "rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{"name": "t", "subject": "Hi", "html": "<p>Hi</p>"})
	require.Equal(t, http.StatusCreated, code, body)

	form := url.Values{"name": {"Form"}, "channel": {"email"}, "segment_id": {"1"}, "from.email": {"news@shop.example"},
		"steps.count": {"5"}, "goals.count": {"6"}, "rules.count": {"1"},
		"rules[0].name": {"clickers"}, "rules[0].on": {"click"}, "rules[0].actions.count": {"1"},
		"rules[0].actions[0].type": {"add_tag"}, "rules[0].actions[0].tag": {"hot"}}
	for i := range 4 {
		form.Set(fmt.Sprintf("steps[%d].key", i), fmt.Sprintf("s%d", i))
		form.Set(fmt.Sprintf("steps[%d].template_id", i), "1")
	}
	for i := range 5 {
		form.Set(fmt.Sprintf("goals[%d].name", i), fmt.Sprintf("g%d", i))
		form.Set(fmt.Sprintf("goals[%d].when", i), fmt.Sprintf("sent >= %d", i+1))
	}
	form.Set("goals[4].target_date", "2030-01-31")
	code, body = postForm(t, m, token, "/admin/campaigns/new", form)
	require.Equal(t, http.StatusSeeOther, code, body)
	id := strings.TrimPrefix(body[:strings.Index(body+"<", "<")], "/admin/campaigns/")
	var got struct {
		Steps []struct{ Key string } `json:"steps"`
		Goals []struct {
			Name       string     `json:"name"`
			TargetDate *time.Time `json:"target_date"`
		} `json:"goals"`
	}
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Len(t, got.Steps, 4, "every step row is kept")
	require.Len(t, got.Goals, 5, "every goal row is kept")
	require.NotNil(t, got.Goals[4].TargetDate)
	require.Equal(t, "2030-01-31", got.Goals[4].TargetDate.Format("2006-01-02"))

	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+id+"/edit", token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `name="goals[4].name"`, "the goals, and no empty row (rows are added in the page)")
	require.NotContains(t, body, `name="goals[5].name"`)
	require.Contains(t, body, `name="steps[3].key"`, "the steps")
	require.NotContains(t, body, `name="steps[4].key"`)
	require.Contains(t, body, `value="2030-01-31"`)

	page := func() string {
		t.Helper()
		code, body := do(t, m, http.MethodGet, "/admin/campaigns/"+id, token, nil)
		require.Equal(t, http.StatusOK, code, body)
		require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")
		return body
	}
	body = page()
	require.Regexp(t, `data-confirm="Launch this campaign to its segment&#39;s 3 contacts[^"]*">\s*<input[^>]*>\s*<button[^>]*id="action-launch"`, body)
	require.NotContains(t, body, `id="action-cancel"`)
	require.Contains(t, body, `id="rule-stats"`)

	// Raw on purpose: each status is set directly to render its page, without
	// the launch that would send; the firing and anomaly rows below likewise.
	setStatus := func(status string) {
		_, err := m.pool.Exec(ctx, `UPDATE campaigns SET status = $2, launched_at = now(), updated_at = now() WHERE id = $1`, id, status)
		require.NoError(t, err)
	}
	setStatus("scheduled")
	body = page()
	require.NotContains(t, body, `id="action-launch"`, "Launch only accepts drafts")
	require.Regexp(t, `data-confirm="Cancel this campaign\?[^"]*">\s*<input[^>]*>\s*<button[^>]*id="action-cancel"`, body)
	setStatus("running")
	body = page()
	require.Contains(t, body, `id="action-pause"`)
	require.Contains(t, body, `id="action-cancel"`)
	require.NotContains(t, body, `id="action-launch"`)

	// Finished: its rules still fire, so it offers to stop them, and shows
	// how they did and the anomaly flags (written once the start-up
	// recompute, which would drop them, is over).
	setStatus("finished")
	waitStartupRecompute(t, m)
	_, err := m.pool.Exec(ctx, `WITH d AS (INSERT INTO deliveries (campaign_id, step, contact_id) VALUES ($1, 's0', 1) RETURNING id, contact_id)
		INSERT INTO rule_firings (campaign_id, rule_name, delivery_id, contact_id, status, error)
		SELECT $1, 'clickers', id, contact_id, 'failed', 'rule "clickers": boom' FROM d`, id)
	require.NoError(t, err)
	_, err = m.pool.Exec(ctx, `INSERT INTO campaign_anomalies (campaign_id, metric, value, mean, stddev, z, history, computed_at)
		VALUES ($1, 'bounce_rate', 0.4, 0.02, 0.01, 38, 5, now())`, id)
	require.NoError(t, err)
	body = page()
	require.Regexp(t, `data-confirm="Stop this campaign&#39;s follow-up rules\?[^"]*">\s*<input[^>]*>\s*<button[^>]*id="action-cancel">Stop follow-ups`, body)
	require.Regexp(t, `<td dir="auto">clickers</td><td>[^<]+</td><td class="num">0</td><td class="num">1</td><td><span class="field-error mono" dir="ltr">rule &#34;clickers&#34;: boom</span>`, body)
	require.Contains(t, body, `id="anomalies"`)
	require.Contains(t, body, "Bounce rate</strong>: 40.0%")

	// Edit a finished campaign: only the name, rules, goals and settings.
	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+id+"/edit", token, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="locked-note"`)
	require.NotContains(t, body, `name="segment_id"`)
	require.NotContains(t, body, `name="steps.count"`)
	code, body = postForm(t, m, token, "/admin/campaigns/"+id+"/edit", url.Values{"name": {"Renamed"}, "goals.count": {"1"},
		"goals[0].name": {"only"}, "goals[0].when": {"sent >= 1"}, "rules.count": {"0"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Contains(t, body, `"name":"Renamed"`)
	require.Contains(t, body, `"segment_id":1`)
	require.Len(t, got.Steps, 4, "a launched campaign's steps stay")
	require.Len(t, got.Goals, 1)

	// A cancelled campaign offers nothing to do but copy or archive it
	// (it keeps its history: no delete).
	setStatus("cancelled")
	body = page()
	require.NotRegexp(t, `id="action-(edit|launch|pause|resume|cancel|delete)"`, body)
	require.Contains(t, body, `id="action-duplicate"`)
	require.Contains(t, body, `id="action-archive"`)
}
