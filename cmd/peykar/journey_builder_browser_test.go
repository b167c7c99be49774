package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserJourneyBuilder builds an event-triggered campaign through the
// editor (entry on signup with a when, re-entry at most once per period,
// an exit on purchase, an end date), saves it, launches it, posts a signup
// and finds the entry through the entries API. The editor fits 400 px.
func TestBrowserJourneyBuilder(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	welcome := factory.Template(t, m.pool, factory.TemplateName("Welcome"),
		factory.HTML(`<p>Welcome</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`))
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		q, _ := json.Marshal(sel)
		v, _ := json.Marshal(value)
		return runJS(`(() => { const el = document.querySelector(` + string(q) + `); el.value = ` + string(v) +
			`; el.dispatchEvent(new Event('change', {bubbles: true})) })()`)
	}
	login(t, ctx, m, "admin@example.com", "admin password 1")
	ends := time.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#f-journey")),
		waitJS(`[...document.querySelectorAll('#event-types option')].map(o => o.value).includes('signup')`),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Welcome journey"),
		chromedp.SendKeys(chromedp.CSS(`[name="from.email"]`), "news@shop.example"),
		set(`[name="steps[0].template_id"]`, strconv.FormatInt(welcome.ID, 10)),
		set(`[name="entry.type"]`, "event"),
		set(`[name="entry.event"]`, "signup"),
		set(`[name="entry.when"]`, `event.type == "signup"`),
		set(`[name="reentry"]`, "period"),
		set(`[name="reentry.period"]`, "720h"),
		set(`[name="exit.event"]`, "purchase"),
		set(`[name="ends_at"]`, ends),
	)
	builderFitsPhone(t, ctx)
	builderScreenshot(t, ctx, "journey-builder.png")
	// A mistake in the entry's when is shown next to it, as for rules.
	steps(t, ctx,
		set(`[name="entry.when"]`, `event.valu >`),
		clickJS(`#save`),
		chromedp.WaitVisible(chromedp.CSS(`#e-entry\.when`)),
	)
	require.Contains(t, text(t, ctx, `#e-entry\.when`), "entry.when")
	steps(t, ctx,
		set(`[name="entry.when"]`, `event.type == "signup"`),
		clickJS(`#save`),
		waitJS(`/\/admin\/campaigns\/\d+$/.test(location.pathname)`),
	)

	token := testToken(t, m, auth.RoleAdmin)
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/1", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var saved struct {
		Entry   struct{ Type, Event, When string } `json:"entry"`
		Reentry string                             `json:"reentry"`
		Exit    []struct{ Event string }           `json:"exit"`
		EndsAt  *time.Time                         `json:"ends_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &saved))
	require.Equal(t, "event", saved.Entry.Type)
	require.Equal(t, "signup", saved.Entry.Event)
	require.Equal(t, `event.type == "signup"`, saved.Entry.When)
	require.Equal(t, "720h", saved.Reentry)
	require.Len(t, saved.Exit, 1)
	require.Equal(t, "purchase", saved.Exit[0].Event)
	require.NotNil(t, saved.EndsAt)

	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns/1/launch", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	code, body = do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{"email": "sara@example.com", "type": "signup"})
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool {
		code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/1/entries", token, nil)
		require.Equal(t, http.StatusOK, code, body)
		var out struct {
			Items []struct{ Status string } `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		return len(out.Items) == 1
	}, 30*time.Second, 50*time.Millisecond, "the signup never entered the journey")
}
