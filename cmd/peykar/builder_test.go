package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// builderPost posts an admin form with an API token in the language lang.
func builderPost(t *testing.T, m *Main, token, lang, path string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, m.URL()+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Language", lang)
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(b)
}

// TestBuilderShowsEveryMistake: one submit with three mistakes shows all
// three, each next to its field, in a marketer's words and the page's
// language; nothing is saved. The API answers with the first, as before,
// and lists them all in errors.
func TestBuilderShowsEveryMistake(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	tpl := factory.Template(t, m.pool, factory.TemplateName("Welcome"))
	form := url.Values{"name": {"Spring"}, "channel": {"email"},
		"steps.count": {"1"}, "steps[0].key": {"main"}, "steps[0].template_id": {builderID(tpl.ID)},
		"rules.count": {"1"}, "rules[0].name": {"pricing click"}, "rules[0].on": {"click"},
		"rules[0].actions.count": {"1"}, "rules[0].actions[0].type": {"send"}, "rules[0].actions[0].step": {"offer"},
		"goals.count": {"1"}, "goals[0].name": {"engagement"}, "goals[0].when": {"ctr >= "},
		"throttle_per_second": {"fast"}}
	code, body := builderPost(t, m, token, "en", "/admin/campaigns/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "Fix these before this campaign can be saved (3):")
	require.Contains(t, body, `<span id="e-rules[0].actions[0].step" class="field-error">The rule &#39;pricing click&#39; sends step &#39;offer&#39;, which doesn&#39;t exist yet.</span>`)
	require.Regexp(t, `<span id="e-goals\[0\].when" class="field-error">The condition of goal &#39;engagement&#39; has a mistake at line 1, column \d+: [^<]+ <a href="/admin/help/expr#goal"`, body)
	require.Contains(t, body, `<span id="e-throttle_per_second" class="field-error">must be a number of messages per second</span>`)
	require.Contains(t, body, `<option value="offer" selected data-missing>offer</option>`, "the missing step stays chosen, so the error reads true")

	code, body = builderPost(t, m, token, "fa", "/admin/campaigns/new", form)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "قاعدهٔ «pricing click» گام «offer» را می‌فرستد که هنوز وجود ندارد.")
	require.Contains(t, body, "شرط هدف «engagement» در سطر ۱، ستون")

	// The API: the first mistake as before, all of them in errors.
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{"name": "Spring",
		"steps": []map[string]any{{"key": "main", "template_id": tpl.ID}},
		"rules": []map[string]any{{"name": "pricing click", "on": "click", "actions": []map[string]any{{"type": "send", "step": "offer"}}}},
		"goals": []map[string]any{{"name": "engagement", "when": "ctr >= "}},
		"from":  map[string]any{"email": "news@shop.example"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	var answer struct {
		Error struct {
			Field  string `json:"field"`
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &answer))
	require.Equal(t, "rules[0].actions[0].step", answer.Error.Field)
	require.Len(t, answer.Error.Errors, 2)
	require.Equal(t, "goals[0].when", answer.Error.Errors[1].Field)

	var n int
	require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT count(*) FROM campaigns`).Scan(&n))
	require.Zero(t, n, "nothing was saved")
}

// TestBuilderDraftAndLaunchChecks: a bare draft saves; Launch then lists
// everything that is missing at once; the campaign page names its segment
// and templates; the editor's audience endpoint counts after suppressions.
func TestBuilderDraftAndLaunchChecks(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	code, body := builderPost(t, m, token, "en", "/admin/campaigns/new", url.Values{"name": {"Just an idea"}, "channel": {"email"}})
	require.Equal(t, http.StatusSeeOther, code, body)
	id := strings.TrimPrefix(body[:strings.Index(body+"<", "<")], "/admin/campaigns/")

	code, body = builderPost(t, m, token, "en", "/admin/campaigns/"+id+"/launch", nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "This campaign cannot launch yet. Missing (3):")
	for _, want := range []string{"Add a sender email", "Add at least one step", "Choose who receives it"} {
		require.Contains(t, body, want)
	}
	code, body = builderPost(t, m, token, "fa", "/admin/campaigns/"+id+"/launch", nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "این کارزار هنوز آمادهٔ آغاز نیست. ۳ مورد کم است:")

	for _, e := range []string{"a@example.com", "b@example.com", "c@blocked.example"} {
		factory.Contact(t, m.pool, factory.Email(e))
	}
	code, body = do(t, m, http.MethodPost, "/api/v1/suppressions", token, map[string]any{"value": "@blocked.example"})
	require.Equal(t, http.StatusCreated, code, body)
	seg := factory.Segment(t, m.pool, factory.SegmentName("Everyone here"), factory.Rule(`contact.email contains "@"`))
	code, body = do(t, m, http.MethodGet, "/admin/audience?segment_id="+builderID(seg.ID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "2 contacts can be sent to now (3 match the segment; unsubscribed, bounced and suppressed ones are left out).", body)

	tpl := factory.Template(t, m.pool, factory.TemplateName("Spring welcome"))
	code, body = do(t, m, http.MethodPut, "/api/v1/campaigns/"+id, token, map[string]any{"name": "Just an idea", "segment_id": seg.ID,
		"from": map[string]any{"email": "news@shop.example"}, "steps": []map[string]any{{"key": "main", "template_id": tpl.ID}}})
	require.Equal(t, http.StatusOK, code, body)
	code, body = do(t, m, http.MethodGet, "/admin/campaigns/"+id, token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `id="def-segment" dir="auto">Everyone here</a>`)
	require.Contains(t, body, `main → <a href="/admin/templates/`+builderID(tpl.ID)+`" dir="auto">Spring welcome</a>`)

	code, body = do(t, m, http.MethodGet, "/admin/help/expr", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	for _, want := range []string{`id="segment"`, `id="rule"`, `id="goal"`, "event.link.url", "unique_clicks", "stats.last_open_at", "days_since(…)"} {
		require.Contains(t, body, want)
	}
}

func builderID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
