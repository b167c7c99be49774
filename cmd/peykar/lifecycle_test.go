package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// lifecycleAPI is a marketer's API session on a test server.
type lifecycleAPI struct {
	t     *testing.T
	m     *Main
	token string
}

// call sends a request and decodes a JSON answer into out (when not nil),
// failing unless the status is want.
func (a lifecycleAPI) call(want int, method, path string, body, out any) string {
	a.t.Helper()
	code, resp := do(a.t, a.m, method, path, a.token, body)
	require.Equal(a.t, want, code, "%s %s: %s", method, path, resp)
	if out != nil {
		require.NoError(a.t, json.Unmarshal([]byte(resp), out), resp)
	}
	return resp
}

// conflict sends a request expected to be refused with 409 and returns the
// error's message and used_by list.
func (a lifecycleAPI) conflict(method, path string) (string, []map[string]any) {
	a.t.Helper()
	var e struct {
		Error struct {
			Code    string           `json:"code"`
			Message string           `json:"message"`
			UsedBy  []map[string]any `json:"used_by"`
		} `json:"error"`
	}
	a.call(http.StatusConflict, method, path, nil, &e)
	require.Equal(a.t, "conflict", e.Error.Code)
	return e.Error.Message, e.Error.UsedBy
}

type idName struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	ArchivedAt *time.Time `json:"archived_at"`
}

type listOf struct {
	Items []idName `json:"items"`
	Total int64    `json:"total"`
}

func (l listOf) names() []string {
	out := []string{}
	for _, i := range l.Items {
		out = append(out, i.Name)
	}
	return out
}

// lifecycleSetup creates a segment, a template and two campaigns using
// both: "Welcome" (a draft) and "Nowruz sale" (launched for tomorrow:
// scheduled). kv configure the server (testMain).
func lifecycleSetup(t *testing.T, kv ...string) (api lifecycleAPI, seg, tpl, welcome, nowruz int64) {
	m := testMain(t, kv...)
	api = lifecycleAPI{t: t, m: m, token: testToken(t, m, auth.RoleMarketer)}
	factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("Sara"))
	var s, tp, c idName
	api.call(http.StatusCreated, "POST", "/api/v1/segments", map[string]string{"name": "Everyone", "rule": "true"}, &s)
	api.call(http.StatusCreated, "POST", "/api/v1/templates", map[string]any{"name": "Offer", "subject": "Offer for {{ .Contact.Name }}",
		"html": `<p>Hi</p><p><a href="https://shop.example/pricing">Pricing</a></p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`, "text": "Hi, see https://shop.example/pricing"}, &tp)
	def := func(name string, at *time.Time) map[string]any {
		return map[string]any{"name": name, "segment_id": s.ID, "channel": "email", "from": map[string]string{"name": "Shop", "email": "news@shop.example"},
			"steps": []map[string]any{{"key": "main", "template_id": tp.ID}},
			"rules": []map[string]any{{"name": "clickers", "on": "click", "when": `event.link.url contains "pricing"`, "actions": []map[string]any{{"type": "add_tag", "tag": "clicked"}}}},
			"goals": []map[string]any{{"name": "engagement", "when": "ctr >= 0.05"}}, "throttle_per_second": 5, "scheduled_at": at,
			"settings": map[string]any{"utm": map[string]string{"source": "peykar"}}}
	}
	api.call(http.StatusCreated, "POST", "/api/v1/campaigns", def("Welcome", nil), &c)
	welcome = c.ID
	tomorrow := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	api.call(http.StatusCreated, "POST", "/api/v1/campaigns", def("Nowruz sale", &tomorrow), &c)
	nowruz = c.ID
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/campaigns/%d/launch", nowruz), nil, &c)
	require.Equal(t, "scheduled", c.Status)
	return api, s.ID, tp.ID, welcome, nowruz
}

// TestCampaignDuplicate: a copy is a draft with the same definition, named
// "(copy)", then "(copy 2)"; a launched campaign duplicates too.
func TestCampaignDuplicate(t *testing.T) {
	t.Parallel()
	api, _, _, welcome, nowruz := lifecycleSetup(t)
	var orig, cp, cp2 map[string]any
	api.call(http.StatusOK, "GET", fmt.Sprintf("/api/v1/campaigns/%d", nowruz), nil, &orig)
	api.call(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", nowruz), nil, &cp)
	require.Equal(t, "Nowruz sale (copy)", cp["name"])
	require.Equal(t, "draft", cp["status"])
	require.Nil(t, cp["scheduled_at"], "a copy is not scheduled")
	require.NotEqual(t, orig["id"], cp["id"])
	for _, k := range []string{"segment_id", "channel", "from", "steps", "rules", "goals", "settings", "throttle_per_second"} {
		require.Equal(t, orig[k], cp[k], k)
	}
	api.call(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", nowruz), nil, &cp2)
	require.Equal(t, "Nowruz sale (copy 2)", cp2["name"])
	api.call(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", welcome), nil, &cp)
	require.Equal(t, "Welcome (copy)", cp["name"])
	code, _ := do(t, api.m, "POST", "/api/v1/campaigns/999/duplicate", api.token, nil)
	require.Equal(t, http.StatusNotFound, code)
	manager := testToken(t, api.m, auth.RoleManager)
	code, _ = do(t, api.m, "POST", fmt.Sprintf("/api/v1/campaigns/%d/duplicate", welcome), manager, nil)
	require.Equal(t, http.StatusForbidden, code, "a manager is read-only")
}

// TestDeleteRefusedWhileInUse: a segment or template that campaigns use
// is not deleted, and the refusal names them with their status; a
// launched campaign is not deleted (cancel, then archive); drafts and
// unused items are.
func TestDeleteRefusedWhileInUse(t *testing.T) {
	t.Parallel()
	api, seg, tpl, welcome, nowruz := lifecycleSetup(t)
	msg, users := api.conflict("DELETE", fmt.Sprintf("/api/v1/segments/%d", seg))
	require.Contains(t, msg, "used by campaigns 'Welcome' (draft), 'Nowruz sale' (scheduled)")
	require.Len(t, users, 2)
	require.Equal(t, "Nowruz sale", users[1]["name"])
	msg, _ = api.conflict("DELETE", fmt.Sprintf("/api/v1/templates/%d", tpl))
	require.Contains(t, msg, "used by campaigns 'Welcome' (draft), 'Nowruz sale' (scheduled)")

	msg, _ = api.conflict("DELETE", fmt.Sprintf("/api/v1/campaigns/%d", nowruz))
	require.Contains(t, msg, "'Nowruz sale' is scheduled: cancel it first")
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/campaigns/%d/cancel", nowruz), nil, nil)
	msg, _ = api.conflict("DELETE", fmt.Sprintf("/api/v1/campaigns/%d", nowruz))
	require.Contains(t, msg, "'Nowruz sale' is cancelled and keeps its history")
	require.Contains(t, msg, "archive it")

	api.call(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/campaigns/%d", welcome), nil, nil)
	code, _ := do(t, api.m, "GET", fmt.Sprintf("/api/v1/campaigns/%d", welcome), api.token, nil)
	require.Equal(t, http.StatusNotFound, code)
	msg, users = api.conflict("DELETE", fmt.Sprintf("/api/v1/segments/%d", seg))
	require.Contains(t, msg, "used by campaigns 'Nowruz sale' (cancelled)")
	require.Len(t, users, 1)

	var s, tp idName
	api.call(http.StatusCreated, "POST", "/api/v1/segments", map[string]string{"name": "Unused", "rule": "true"}, &s)
	api.call(http.StatusCreated, "POST", "/api/v1/templates", map[string]any{"name": "Unused", "subject": "x", "html": "<p>x</p>"}, &tp)
	api.call(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/segments/%d", s.ID), nil, nil)
	api.call(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/templates/%d", tp.ID), nil, nil)
	code, _ = do(t, api.m, "DELETE", fmt.Sprintf("/api/v1/templates/%d", tp.ID), api.token, nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = do(t, api.m, "DELETE", "/api/v1/campaigns/999", api.token, nil)
	require.Equal(t, http.StatusNotFound, code)
}

// TestArchiveHidesFromLists: archived campaigns, segments and templates
// leave the lists (and their totals) unless ?archived=true, and come back
// when unarchived; a campaign still at work cannot be archived.
func TestArchiveHidesFromLists(t *testing.T) {
	t.Parallel()
	api, seg, tpl, welcome, nowruz := lifecycleSetup(t)
	msg, _ := api.conflict("POST", fmt.Sprintf("/api/v1/campaigns/%d/archive", nowruz))
	require.Contains(t, msg, "'Nowruz sale' is scheduled")

	var c idName
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/campaigns/%d/archive", welcome), nil, &c)
	require.NotNil(t, c.ArchivedAt)
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/segments/%d/archive", seg), nil, nil)
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/templates/%d/archive", tpl), nil, nil)

	for _, kind := range []struct{ path, name string }{{"campaigns", "Welcome"}, {"segments", "Everyone"}, {"templates", "Offer"}} {
		var shown, all listOf
		api.call(http.StatusOK, "GET", "/api/v1/"+kind.path, nil, &shown)
		require.NotContains(t, shown.names(), kind.name, kind.path)
		require.Equal(t, int64(len(shown.Items)), shown.Total, kind.path)
		api.call(http.StatusOK, "GET", "/api/v1/"+kind.path+"?archived=true", nil, &all)
		require.Contains(t, all.names(), kind.name, kind.path)
		require.Equal(t, shown.Total+1, all.Total, kind.path)
	}
	code, _ := do(t, api.m, "GET", "/api/v1/segments?archived=maybe", api.token, nil)
	require.Equal(t, http.StatusUnprocessableEntity, code)

	// An archived segment still counts for the campaign using it.
	api.call(http.StatusOK, "GET", fmt.Sprintf("/api/v1/segments/%d/count", seg), nil, nil)

	// The contact list's and the reports' segment pickers leave it out,
	// unless the page is filtered by it (an old link still says what it
	// shows).
	option := regexp.MustCompile(fmt.Sprintf(`<option value="%d"[^>]*>Everyone</option>`, seg))
	for _, page := range []string{"/admin/contacts", "/admin/reports"} {
		code, body := do(t, api.m, "GET", page, api.token, nil)
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, body, `<select id=`, page)
		require.NotRegexp(t, option, body, page)
		code, body = do(t, api.m, "GET", fmt.Sprintf("%s?segment_id=%d", page, seg), api.token, nil)
		require.Equal(t, http.StatusOK, code, page)
		require.Regexp(t, option, body, page)
		require.Contains(t, option.FindString(body), "selected", page)
	}

	var back idName
	api.call(http.StatusOK, "POST", fmt.Sprintf("/api/v1/campaigns/%d/unarchive", welcome), nil, &back)
	require.Nil(t, back.ArchivedAt)
	var shown listOf
	api.call(http.StatusOK, "GET", "/api/v1/campaigns", nil, &shown)
	require.Contains(t, shown.names(), "Welcome")
}

// TestLifecyclePagesRefuseClearly: the admin pages' delete buttons refuse
// a segment and a template in use, naming the campaigns, in English and
// Persian, and offer to archive instead; lists show totals, counts and
// the "show archived" toggle.
func TestLifecyclePagesRefuseClearly(t *testing.T) {
	t.Parallel()
	api, seg, tpl, welcome, nowruz := lifecycleSetup(t)
	page := func(method, path, lang string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, api.m.URL()+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+api.token)
		req.Header.Set("Accept-Language", lang)
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b.String()
	}
	code, body := page("POST", fmt.Sprintf("/admin/segments/%d/delete", seg), "en")
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "“Everyone” is used by the campaigns below")
	require.Contains(t, body, `>Nowruz sale</a> <span class="badge scheduled">scheduled</span>`)
	require.Contains(t, body, fmt.Sprintf(`action="/admin/segments/%d/archive"`, seg))
	code, body = page("POST", fmt.Sprintf("/admin/templates/%d/delete", tpl), "fa")
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "«Offer» در کمپین‌های زیر به کار رفته است")
	require.Contains(t, body, ">Welcome</a>")
	code, body = page("POST", fmt.Sprintf("/admin/campaigns/%d/delete", nowruz), "fa")
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "نخست آن را لغو کنید")

	code, body = page("GET", "/admin/segments", "en")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `id="list-total">1 in all`)
	require.Contains(t, body, `<td class="num" data-count>1</td><td class="num" data-sendable>1</td>`)
	code, _ = page("POST", fmt.Sprintf("/admin/segments/%d/archive", seg), "en")
	require.Equal(t, http.StatusSeeOther, code)
	_, body = page("GET", "/admin/segments", "en")
	require.Contains(t, body, `id="list-total">0 in all`)
	require.NotContains(t, body, ">Everyone</a>")
	_, body = page("GET", "/admin/segments?archived=1", "en")
	require.Contains(t, body, `>Everyone</a> <span class="badge archived">Archived</span>`)

	// A new campaign cannot pick the archived segment; the draft that
	// uses it keeps it.
	_, body = page("GET", "/admin/campaigns/new", "en")
	require.NotContains(t, body, `dir="auto">Everyone</option>`)
	_, body = page("GET", fmt.Sprintf("/admin/campaigns/%d/edit", welcome), "en")
	require.Contains(t, body, `selected dir="auto">Everyone</option>`)
}
