package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// journeyClickLink is a tracked click link in a caught message.
var journeyClickLink = regexp.MustCompile(`http://peykar\.test(/t/c/[A-Za-z0-9_\-.]+)`)

// TestBrowserJourneyMap launches a two-step campaign with a delayed click
// rule, opens its page, and watches the journey map's numbers move over the
// campaign's report stream (no polling) as two recipients click through the
// real tracking endpoint: the rule fires and both follow-ups wait out their
// delay, counted on the step and on the rule's arrow. The numbers change in
// place: the node focused from the keyboard keeps the focus. Enter on a
// rule opens the editor at it; a launched campaign's step opens its
// read-only detail. Then the same map in Persian (mirrored, labels
// translated, names and conditions kept in order) and at phone width
// (scrolls sideways, with its hint).
func TestBrowserJourneyMap(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleMarketer)
	id := launchJourneyCampaign(t, m, token)
	page := fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), id)
	stat := func(node, key string) string {
		return fmt.Sprintf(`(document.querySelector('#journey [data-node="%s"] [data-stat="%s"]') || {}).textContent`, node, key)
	}
	const arrowWaiting = `(document.querySelector('#journey [data-edge][data-from="rule-0"][data-to="step-offer"] [data-stat="waiting"]') || {}).textContent`
	const updates = `Number(document.querySelector('#journey').dataset.updates || 0)`

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("svg.journey")),
		waitJS(stat("step-main", "sent")+` === '2'`))
	// The map follows the report stream: no polling of its own.
	live, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('#journey');
		return !b.hasAttribute('hx-trigger') && !b.hasAttribute('hx-get') && b.querySelector('[hx-trigger]') === null &&
			b.dataset.stream === '/api/v1/campaigns/' + location.pathname.split('/').pop() + '/stream' })()`))
	require.NoError(t, err)
	require.True(t, live, "no hx-trigger=every on the map; it names its stream")
	steps(t, ctx, waitJS(updates+` >= 1`)) // the stream's first event is in
	require.Equal(t, "0", svgText(t, ctx, `#journey [data-node="rule-0"] [data-stat="fired"]`))
	require.Equal(t, "0", svgText(t, ctx, `#journey [data-node="step-offer"] [data-stat="waiting"]`))
	require.Equal(t, "0", svgText(t, ctx, `#journey [data-edge][data-to="step-offer"] [data-stat="waiting"]`), "the delayed arrow counts its waiting sends")
	require.Contains(t, svgText(t, ctx, `#journey [data-node="rule-0"]`), "pricing <click>", "the rule's name, as text")
	arrows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#journey [data-edge]')].map(e =>
		e.dataset.from + '>' + e.dataset.to + ':' + ((e.querySelector('text.journey-edge-label:not(.journey-stats)') || {}).textContent || ''))`))
	require.NoError(t, err)
	require.Equal(t, []string{"entry>step-main:", "step-main>rule-0:", "rule-0>step-offer:after 1h", "rule-0>end-0-1:"}, arrows)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#journey [data-node="rule-0"]').closest('a').getAttribute('href')`))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("/admin/campaigns/%d/edit#f-rules[0].name", id), href, "a launched campaign's rule opens in the editor")
	arrowHref, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#journey [data-edge][data-to="step-offer"]').closest('a').getAttribute('href')`))
	require.NoError(t, err)
	require.Equal(t, href, arrowHref, "so does its arrow")

	// A keyboard user rests on the rule's node while the numbers move; the
	// drawing is marked, so replacing it would show.
	steps(t, ctx, runJS(`document.getElementById('jl-rule-0').focus(); document.querySelector('svg.journey').dataset.mark = 'first'`))
	require.Equal(t, "jl-rule-0", activeID(t, ctx))
	seen := journeyUpdates(t, ctx)

	// Both recipients click the pricing link a minute after it arrived (a
	// click within seconds of delivery counts as a scanner's). Raw on
	// purpose: the test moves the send time back instead of waiting.
	_, err = m.pool.Exec(context.Background(), `UPDATE deliveries SET sent_at = sent_at - interval '1 minute' WHERE campaign_id = $1`, id)
	require.NoError(t, err)
	for _, email := range []string{"sara@example.com", "ali@example.com"} {
		journeyClickPricing(t, m, token, email)
	}
	// The stream brings the numbers: the rule fires for both (after the
	// click's verdict delay) and both follow-ups wait out their hour.
	steps(t, ctx, waitJS(stat("rule-0", "fired")+` === '2' && `+stat("step-offer", "waiting")+` === '2' && `+arrowWaiting+` === '2'`))
	require.Equal(t, "2", svgText(t, ctx, `#journey [data-node="step-main"] [data-stat="sent"]`))
	require.Equal(t, "2", svgText(t, ctx, `#journey [data-node="entry"] [data-stat="entered"]`))
	require.Greater(t, journeyUpdates(t, ctx), seen, "by the stream's events")
	require.Equal(t, "jl-rule-0", activeID(t, ctx), "the focused node keeps the focus")
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('svg.journey').dataset.mark === 'first' &&
		performance.getEntriesByType('resource').every(e => !new URL(e.name).pathname.endsWith('/journey'))`))
	require.NoError(t, err)
	require.True(t, kept, "the drawing was never replaced nor fetched again")
	steps(t, ctx, runJS(`document.activeElement.blur()`))
	journeyScreenshot(t, ctx, "journey-map-en.png")

	// Enter on the focused rule opens the editor at that rule.
	steps(t, ctx, runJS(`document.getElementById('jl-rule-0').focus()`), pressEnter(),
		waitJS(`location.pathname.endsWith('/edit') && document.getElementById(decodeURIComponent(location.hash.slice(1))) !== null`))
	field, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById(decodeURIComponent(location.hash.slice(1))).value`))
	require.NoError(t, err)
	require.Equal(t, "pricing <click>", field)
	// A launched campaign's steps cannot change: the step opens its
	// read-only detail, by keyboard and by mouse.
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("svg.journey")),
		runJS(`document.getElementById('jl-step-offer').focus()`), pressEnter(),
		waitJS(`location.hash === '#jd-step-offer' && getComputedStyle(document.getElementById('jd-step-offer')).display !== 'none'`))
	detail := text(t, ctx, "#jd-step-offer")
	require.Contains(t, detail, "Spring offer")
	require.Contains(t, detail, "Read only")
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("svg.journey")), clickSVG(`#journey [data-node="step-main"]`),
		waitJS(`location.hash === '#jd-step-main' && getComputedStyle(document.getElementById('jd-step-main')).display !== 'none'`))
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("svg.journey")))

	// Persian: the flow runs right to left, labels translated, the rule's
	// name and condition laid out left to right, every character after the
	// one before it (no bidi reordering of quotes, brackets or ellipsis).
	steps(t, ctx, clickJS(`[data-lang="fa"]`), waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('svg.journey') !== null`))
	mirrored, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const x = n => document.querySelector('#journey [data-node="' + n + '"] rect').getBBox().x;
		return x('entry') > x('step-main') && x('step-main') > x('rule-0') && x('rule-0') > x('step-offer') })()`))
	require.NoError(t, err)
	require.True(t, mirrored, "entry at the right, follow-up at the left")
	require.Contains(t, svgText(t, ctx, `#journey [data-node="step-main"]`), "ارسال ۲", "Persian digits")
	code, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#journey [data-node="rule-0"] .journey-code').getAttribute('direction')`))
	require.NoError(t, err)
	require.Equal(t, "ltr", code)
	for _, sel := range []string{`#journey [data-node="rule-0"] .journey-code`, `#journey [data-node="rule-0"] .journey-title`} {
		inOrder, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%q);
			const n = el.getNumberOfChars(); let prev = -Infinity;
			for (let i = 0; i < n; i++) { const x = el.getStartPositionOfChar(i).x; if (x <= prev) return false; prev = x; }
			return n > 10 })()`, sel)))
		require.NoError(t, err)
		require.True(t, inOrder, "%s reads left to right, isolated from the page's direction", sel)
	}
	steps(t, ctx, waitJS(updates+` >= 1 && `+stat("rule-0", "fired")+` === '۲' && `+arrowWaiting+` === '۲'`))
	journeyScreenshot(t, ctx, "journey-map-fa.png")

	// At phone width the map keeps its size and scrolls, and says so.
	steps(t, ctx, chromedp.EmulateViewport(400, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#journey-hint")))
	scrolls, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('#journey');
		return s.scrollWidth > s.clientWidth && document.documentElement.scrollWidth <= window.innerWidth })()`))
	require.NoError(t, err)
	require.True(t, scrolls, "the map scrolls inside its box, the page does not")
	// A rule's read-only detail fits the phone too, its condition left to
	// right inside the Persian page.
	steps(t, ctx, runJS(`location.hash = '#jd-rule-0'`),
		waitJS(`getComputedStyle(document.getElementById('jd-rule-0')).display !== 'none'`))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const d = document.getElementById('jd-rule-0');
		const code = d.querySelector('bdi.mono');
		return document.documentElement.scrollWidth <= window.innerWidth && d.getBoundingClientRect().right <= window.innerWidth &&
			code !== null && code.dir === 'ltr' && code.textContent === 'event.link.url contains "pricing"' })()`))
	require.NoError(t, err)
	require.True(t, fits, "the detail fits 400 px and keeps the condition in order")

	// The stream ends (the server's streams close, as at a shutdown): the
	// page says so and falls back to fetching the map's numbers, slowly
	// (every 30 s), until the stream delivers again.
	steps(t, ctx, waitJS(updates+` >= 1`))
	seen = journeyUpdates(t, ctx)
	m.streams.Close()
	steps(t, ctx, waitJS(`!document.getElementById('journey-stream-lost').hidden`),
		waitJS(updates+fmt.Sprintf(` > %d && performance.getEntriesByType('resource').some(e => new URL(e.name).pathname.endsWith('/journey'))`, seen)))
	require.Equal(t, "۲", svgText(t, ctx, `#journey [data-node="rule-0"] [data-stat="fired"]`), "the fetched map's numbers, in Persian digits")
}

// activeID is the id of the focused element.
func activeID(t *testing.T, ctx context.Context) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ''`))
	require.NoError(t, err)
	return id
}

// journeyUpdates is how many times the page's script has set the map's
// numbers (from the stream's events or its fallback).
func journeyUpdates(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.querySelector('#journey').dataset.updates || 0)`))
	require.NoError(t, err)
	return n
}

// pressEnter presses Enter on the focused element; a navigation it starts
// is not an error.
func pressEnter() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.KeyEvent("\r")(ctx, tg)
		if err != nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) {
			err = nil
		}
		return chromedp.Void{}, err
	}
}

// launchJourneyCampaign creates two contacts and a campaign whose click on
// pricing sends the offer an hour later and tags the clicker, launches it
// and waits for both first messages to be caught.
func launchJourneyCampaign(t *testing.T, m *Main, token string) int64 {
	t.Helper()
	post := func(path string, body any) int64 {
		t.Helper()
		code, resp := do(t, m, http.MethodPost, path, token, body)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, code, resp)
		var created struct {
			ID int64 `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp), &created), resp)
		return created.ID
	}
	post("/api/v1/contacts", map[string]any{"email": "sara@example.com", "name": "سارا"})
	post("/api/v1/contacts", map[string]any{"email": "ali@example.com", "name": "Ali"})
	first := post("/api/v1/templates", map[string]string{"name": "Spring welcome", "subject": "Hello {{ .Contact.Name }}",
		"html": `<p>Hi</p><a href="https://shop.example/pricing">Pricing</a><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`, "text": "Hi, see https://shop.example/pricing"})
	offer := post("/api/v1/templates", map[string]string{"name": "Spring offer", "subject": "An offer",
		"html": `<p>20% off</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`, "text": "20% off"})
	seg := post("/api/v1/segments", map[string]string{"name": "Everyone", "rule": "true"})
	id := post("/api/v1/campaigns", map[string]any{"name": "Spring", "segment_id": seg, "channel": "email",
		"from":  map[string]string{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": first}, {"key": "offer", "template_id": offer}},
		"rules": []map[string]any{{"name": "pricing <click>", "on": "click", "when": `event.link.url contains "pricing"`,
			"actions": []map[string]any{{"type": "send", "step": "offer", "delay": "1h"}, {"type": "add_tag", "tag": "clicked-pricing"}}}},
		"goals": []map[string]any{{"name": "engagement", "when": "ctr >= 0.05"}}})
	post(fmt.Sprintf("/api/v1/campaigns/%d/launch", id), nil)
	require.Eventually(t, func() bool {
		var n int
		err := m.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox_messages`).Scan(&n)
		return err == nil && n == 2
	}, time.Minute, 20*time.Millisecond, "both first messages reach the catch-all")
	return id
}

// journeyClickPricing follows the pricing link of the message caught for email,
// as a person's browser would.
func journeyClickPricing(t *testing.T, m *Main, token, email string) {
	t.Helper()
	var msgID int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT id FROM outbox_messages WHERE $1 = ANY(rcpt_to)`, email).Scan(&msgID))
	code, body := do(t, m, http.MethodGet, fmt.Sprintf("/api/v1/outbox/%d", msgID), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var msg struct {
		HTML string `json:"html"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &msg))
	link := journeyClickLink.FindStringSubmatch(strings.ReplaceAll(msg.HTML, "&amp;", "&"))
	require.NotNil(t, link, msg.HTML)
	req, err := http.NewRequest(http.MethodGet, m.URL()+link[1], nil)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
}

// journeyScreenshot saves the journey map section to PEYKAR_SCREENSHOTS/name when
// that is set (PEYKAR_SCREENSHOTS=$PWD/docs/images refreshes the docs').
func journeyScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#journey-section")))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// svgText is the text of the SVG element sel (text reads innerText, which
// SVG elements lack).
func svgText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	q, _ := json.Marshal(sel)
	var s string
	steps(t, ctx, waitJS(fmt.Sprintf(`document.querySelector(%s) !== null`, q)), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var err error
		s, err = chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s).textContent`, q))(ctx, tg)
		return chromedp.Void{}, err
	})
	return s
}

// clickSVG clicks the link around the SVG element sel from inside the page
// (SVG elements have no click()); the navigation it starts is not an error.
func clickSVG(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	click := runJS(fmt.Sprintf(`document.querySelector(%s).closest('a').dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true}))`, q))
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := click(ctx, tg)
		if err != nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) {
			err = nil
		}
		return chromedp.Void{}, err
	}
}
