package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserABTest builds an A/B test in the campaign editor (a mistake
// first, shown at its field), launches it, finds the variant table on the
// campaign's report, picks the winner with its button, and checks the page
// in Persian at 400 px.
func TestBrowserABTest(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	for _, e := range []string{"sara@example.com", "ali@example.com", "nima@example.com", "reza@example.com"} {
		factory.Contact(t, m.pool, factory.Email(e))
	}
	seg := factory.Segment(t, m.pool, factory.SegmentName("Everyone"), factory.Rule(`contact.email contains "@"`))
	html := factory.HTML(`<p>Hi</p><a href="https://shop.example/spring">Spring</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a>`)
	welcome := factory.Template(t, m.pool, factory.TemplateName("Welcome"), html)
	offer := factory.Template(t, m.pool, factory.TemplateName("Offer"), html)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		q, _ := json.Marshal(sel)
		v, _ := json.Marshal(value)
		return runJS(`(() => { const el = document.querySelector(` + string(q) + `); el.value = ` + string(v) +
			`; el.dispatchEvent(new Event('change', {bubbles: true})) })()`)
	}
	login(t, ctx, m, "admin@example.com", "admin password 1")

	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#f-ab_test")),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Spring A/B"),
		chromedp.SendKeys(chromedp.CSS(`[name="from.email"]`), "news@shop.example"),
		set(`#f-segment_id`, id(seg.ID)),
		set(`[name="steps[0].template_id"]`, id(welcome.ID)),
	)
	steps(t, ctx,
		clickJS(`#add-variant`),
		chromedp.WaitVisible(chromedp.CSS(`[name="steps[0].variants[0].key"]`)),
		chromedp.SendKeys(chromedp.CSS(`[name="steps[0].variants[0].key"]`), "A"),
		clickJS(`#add-variant`),
		chromedp.WaitVisible(chromedp.CSS(`[name="steps[0].variants[1].key"]`)),
		chromedp.SendKeys(chromedp.CSS(`[name="steps[0].variants[1].key"]`), "B"),
		set(`[name="steps[0].variants[1].template_id"]`, id(offer.ID)),
		chromedp.SendKeys(chromedp.CSS(`[name="steps[0].variants[1].subject"]`), "A better offer"),
	)
	steps(t, ctx,
		set(`#f-ab_test\.test_share`, "2"),
		set(`#f-ab_test\.duration`, "4h"),
		set(`#f-ab_test\.winner`, "manual"),
		clickJS(`#save`),
		waitJS(`document.querySelector('#e-ab_test\\.test_share').textContent.includes('at most 1')`),
	)
	// The mistake is shown at its field; the rest was kept.
	require.Equal(t, "B", jsString(t, ctx, `document.querySelector('[name="steps[0].variants[1].key"]').value`))
	steps(t, ctx,
		set(`#f-ab_test\.test_share`, "1"),
		clickJS(`#save`),
		waitJS(`/\/admin\/campaigns\/\d+$/.test(location.pathname)`),
	)
	steps(t, ctx,
		runJS(`window.confirm = () => true`),
		clickJS("#action-launch"),
		waitJS(`document.querySelector('#ab-variants tr[data-variant="B"]') !== null`),
	)
	steps(t, ctx,
		// Everyone is in the test (share 1): the table fills as they are sent.
		chromedp.Navigate(m.URL()+"/admin/campaigns/1"),
		waitJS(`[...document.querySelectorAll('#ab-variants tbody tr td:nth-child(2)')].map(td => +td.textContent).reduce((a, b) => a + b, 0) === 4`),
	)
	require.Contains(t, text(t, ctx, "#ab-state"), "100.0%")
	require.Contains(t, text(t, ctx, "#ab-h"), "A/B test")
	builderScreenshot(t, ctx, "ab-test-report.png")

	steps(t, ctx,
		runJS(`window.confirm = () => true`),
		clickJS(`#ab-pick-B`),
		waitJS(`document.querySelector('#ab-winner') !== null`),
	)
	require.Contains(t, text(t, ctx, "#ab-winner"), "B")
	require.Contains(t, text(t, ctx, `#ab-variants tr[data-variant="B"]`), "Winner")

	token := testToken(t, m, auth.RoleMarketer)
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/1/report", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var r struct {
		Variants []struct {
			Key      string     `json:"key"`
			Sent     int64      `json:"sent"`
			Interval [2]float64 `json:"interval"`
			PBest    float64    `json:"p_best"`
			Winner   bool       `json:"winner"`
		} `json:"variants"`
		ABTest struct {
			State, Winner, ChosenBy string
		} `json:"ab_test"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	require.Len(t, r.Variants, 2)
	require.True(t, r.Variants[1].Winner)
	require.EqualValues(t, 4, r.Variants[0].Sent+r.Variants[1].Sent)

	// Persian, right to left, at 400 px: the table scrolls inside its box.
	steps(t, ctx,
		runJS(`document.cookie = "peykar_lang=fa; path=/admin"`),
		chromedp.Navigate(m.URL()+"/admin/campaigns/1"),
		waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('#ab-h').textContent === 'آزمون A/B'`),
		chromedp.EmulateViewport(400, 900),
		waitJS(`window.innerWidth === 400`),
		waitJS(`document.documentElement.scrollWidth <= 400`),
	)
}

// jsString evaluates a JavaScript expression to a string.
func jsString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	require.NoError(t, err)
	return s
}
