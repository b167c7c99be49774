package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserCampaignBuilder drives the campaign builder as a marketer:
// the audience shows as the segment is chosen; a two-step campaign with a
// click rule that sends the second step and a goal is built in one pass
// and saved with one submit; a form with two mistakes shows both at once,
// next to their fields, in English and then in Persian (right to left),
// and the builder fits a 400 px wide screen.
func TestBrowserCampaignBuilder(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	for _, e := range []string{"sara@example.com", "ali@example.com", "nima@example.com", "x@blocked.example"} {
		factory.Contact(t, m.pool, factory.Email(e))
	}
	_, err := contacts.AddSuppression(bg, m.pool, contacts.SuppressionInput{Value: "@blocked.example"})
	require.NoError(t, err)
	seg := factory.Segment(t, m.pool, factory.SegmentName("Newsletter readers"), factory.Rule(`contact.email contains "@"`))
	welcome := factory.Template(t, m.pool, factory.TemplateName("Welcome"))
	offer := factory.Template(t, m.pool, factory.TemplateName("Offer"))
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	choose := func(sel, value string) chromedp.Action[chromedp.Void] {
		q, _ := json.Marshal(sel)
		v, _ := json.Marshal(value)
		return runJS(`(() => { const el = document.querySelector(` + string(q) + `); el.value = ` + string(v) +
			`; el.dispatchEvent(new Event('change', {bubbles: true})) })()`)
	}
	login(t, ctx, m, "admin@example.com", "admin password 1")

	// One pass: the audience as the segment is chosen, a second step added
	// and chosen in the rule as soon as its key is typed, a goal; one save.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#audience")),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Spring launch"),
		chromedp.SendKeys(chromedp.CSS(`[name="from.email"]`), "news@shop.example"),
		choose(`#f-segment_id`, id(seg.ID)),
		waitJS(`document.querySelector('#audience').textContent.startsWith('3 contacts can be sent to now (4 match')`),
		choose(`[name="steps[0].template_id"]`, id(welcome.ID)),
		waitJS(`document.querySelector('[name="rules[0].name"]') === null && document.querySelector('[name="goals[0].name"]') === null`),
		clickJS(`#add-step`),
		chromedp.WaitVisible(chromedp.CSS(`[name="steps[1].key"]`)),
		chromedp.SendKeys(chromedp.CSS(`[name="steps[1].key"]`), "offer"),
		choose(`[name="steps[1].template_id"]`, id(offer.ID)),
		clickJS(`#add-rule`),
		chromedp.WaitVisible(chromedp.CSS(`[name="rules[0].name"]`)),
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].name"]`), "pricing click"),
		choose(`[name="rules[0].on"]`, "click"),
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].when"]`), `event.link.url contains "pricing"`),
		choose(`[name="rules[0].actions[0].type"]`, "send"),
		waitJS(`[...document.querySelector('[name="rules[0].actions[0].step"]').options].map(o => o.value).join() === ',main,offer'`),
		choose(`[name="rules[0].actions[0].step"]`, "offer"),
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].actions[0].delay"]`), "48h"),
		clickJS(`#add-goal`),
		chromedp.WaitVisible(chromedp.CSS(`[name="goals[0].name"]`)),
		chromedp.SendKeys(chromedp.CSS(`[name="goals[0].name"]`), "engagement"),
		chromedp.SendKeys(chromedp.CSS(`[name="goals[0].when"]`), "ctr >= 0.05"),
	)
	// Retyping a step's key keeps the rule's choice on that step.
	steps(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[name="steps[1].key"]`), "s"),
		waitJS(`document.querySelector('[name="rules[0].actions[0].step"]').value === 'offers'`),
		runJS(`(() => { const k = document.querySelector('[name="steps[1].key"]'); k.value = 'offer'; k.dispatchEvent(new Event('input', {bubbles: true})) })()`),
		waitJS(`document.querySelector('[name="rules[0].actions[0].step"]').value === 'offer'`),
		clickJS(`#save`),
		waitJS(`/\/admin\/campaigns\/\d+$/.test(location.pathname)`),
		chromedp.WaitVisible(chromedp.CSS("#def-segment")),
	)
	require.Equal(t, "Newsletter readers", text(t, ctx, "#def-segment"))
	require.Contains(t, text(t, ctx, "#def-h + dl"), "offer → Offer")
	token := testToken(t, m, auth.RoleMarketer)
	code, body := do(t, m, http.MethodGet, "/api/v1/campaigns/1", token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var saved struct {
		Steps []struct {
			Key        string `json:"key"`
			TemplateID int64  `json:"template_id"`
		} `json:"steps"`
		Rules []struct {
			Name    string                               `json:"name"`
			On      string                               `json:"on"`
			Actions []struct{ Type, Step, Delay string } `json:"actions"`
		} `json:"rules"`
		Goals []struct{ Name, When string } `json:"goals"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &saved))
	require.Len(t, saved.Steps, 2)
	require.Equal(t, "offer", saved.Steps[1].Key)
	require.Equal(t, offer.ID, saved.Steps[1].TemplateID)
	require.Len(t, saved.Rules, 1, "no empty rule was saved")
	require.Equal(t, "pricing click", saved.Rules[0].Name)
	require.Equal(t, []struct{ Type, Step, Delay string }{{"send", "offer", "48h"}}, saved.Rules[0].Actions)
	require.Equal(t, []struct{ Name, When string }{{"engagement", "ctr >= 0.05"}}, saved.Goals)

	// Two mistakes, one submit: both reported, each next to its field.
	mistakes := func() {
		t.Helper()
		steps(t, ctx,
			chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
			chromedp.WaitVisible(chromedp.CSS("#add-step")),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), "Two mistakes"),
			choose(`[name="steps[0].template_id"]`, id(welcome.ID)),
			clickJS(`#add-step`),
			chromedp.SendKeys(chromedp.CSS(`[name="steps[1].key"]`), "offer"),
			choose(`[name="steps[1].template_id"]`, id(offer.ID)),
			clickJS(`#add-rule`),
			chromedp.SendKeys(chromedp.CSS(`[name="rules[0].name"]`), "pricing click"),
			choose(`[name="rules[0].on"]`, "click"),
			choose(`[name="rules[0].actions[0].type"]`, "send"),
			choose(`[name="rules[0].actions[0].step"]`, "offer"),
			// The offer step is removed again: the rule's choice goes with it.
			clickJS(`#f-steps [data-list] .row:nth-child(2) [data-remove]`),
			waitJS(`document.querySelector('[name="steps[1].key"]') === null &&
				document.querySelector('[name="rules[0].actions[0].step"]').value === ''`),
			clickJS(`#add-goal`),
			chromedp.SendKeys(chromedp.CSS(`[name="goals[0].name"]`), "engagement"),
			chromedp.SendKeys(chromedp.CSS(`[name="goals[0].when"]`), "ctr >= "),
			clickJS(`#save`),
			chromedp.WaitVisible(chromedp.CSS("#form-error")),
		)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#form-error li').length`))
		require.NoError(t, err)
		require.Equal(t, 2, n, text(t, ctx, "#form-error"))
	}
	mistakes()
	require.Equal(t, "The rule 'pricing click' sends a step: choose which one.", text(t, ctx, `[name="rules[0].actions[0].step"] ~ .field-error`))
	require.Regexp(t, `^The condition of goal 'engagement' has a mistake at line 1, column \d+: .+ Names you can use$`, text(t, ctx, `[name="goals[0].when"] ~ .field-error`))
	require.Equal(t, 1, builderCount(t, ctx, `document.querySelectorAll('[name="goals[0].when"] ~ .field-error a[href="/admin/help/expr#goal"]').length`))
	require.Equal(t, 0, builderCount(t, ctx, `document.querySelectorAll('[name="steps[1].key"], [name="rules[1].name"], [name="goals[1].name"]').length`), "no empty slots appeared")
	builderScreenshot(t, ctx, "builder-en.png")
	builderFitsPhone(t, ctx)

	// The same in Persian, right to left.
	steps(t, ctx, clickJS(`a[data-lang="fa"]`), waitJS(`document.documentElement.dir === 'rtl'`))
	mistakes()
	require.Equal(t, "قاعدهٔ «pricing click» گامی را می‌فرستد: برگزینید کدام.", text(t, ctx, `[name="rules[0].actions[0].step"] ~ .field-error`))
	require.Contains(t, text(t, ctx, `[name="goals[0].when"] ~ .field-error`), "شرط هدف «engagement» در سطر ۱، ستون")
	require.Contains(t, text(t, ctx, "#form-error"), "پیش از ذخیرهٔ این کارزار ۲ مورد را درست کنید")
	require.Contains(t, text(t, ctx, `[name="goals[0].when"] ~ .field-error`), "عبارت زود تمام شده است", "the compiler's mistake in Persian too")
	builderScreenshot(t, ctx, "builder-fa.png")
	builderFitsPhone(t, ctx)
}

// builderCount evaluates a JavaScript expression giving a number.
func builderCount(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	require.NoError(t, err)
	return n
}

// builderFitsPhone checks the page at 400 px: nothing wider than the screen.
func builderFitsPhone(t *testing.T, ctx context.Context) {
	t.Helper()
	steps(t, ctx, chromedp.EmulateViewport(400, 900),
		waitJS(`window.innerWidth === 400`),
		waitJS(`document.documentElement.scrollWidth <= 400`),
		chromedp.EmulateViewport(1280, 900),
		waitJS(`window.innerWidth === 1280`),
	)
}

// builderScreenshot saves the page to $PEYKAR_SCREENSHOTS/name when that is set
// (PEYKAR_SCREENSHOTS=$PWD/docs/images refreshes the docs' pictures).
func builderScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}
