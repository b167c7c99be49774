package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/factory"
)

// setSelect picks value in the select at sel as a person would: the value,
// then the change event the page listens to.
func setSelect(sel, value string) chromedp.Action[chromedp.Void] {
	return runJS(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})) })()`, sel, value))
}

// buyer is a contact with a city and a purchase of value, days ago.
func buyer(t *testing.T, m *Main, email, city string, value float64, daysAgo int) {
	t.Helper()
	factory.Contact(t, m.pool, factory.Email(email), factory.Attr("city", city))
	purchase(t, m, email, value, daysAgo)
}

// purchase records a purchase of value by the contact, days ago.
func purchase(t *testing.T, m *Main, email string, value float64, daysAgo int) {
	t.Helper()
	at := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	_, _, err := contacts.RecordEvent(context.Background(), m.pool, nil, contacts.EventInput{Email: email, Type: "purchase", Value: value, OccurredAt: &at})
	require.NoError(t, err)
}

// TestBrowserSegmentBuilder builds "city is Tehran and spent more than
// 1000000 and bought in the last 90 days" with clicks, sees the rule and
// the live count follow, saves it, and finds the page's count equal to the
// API's; the saved rule opens in the builder again, in Persian too.
func TestBrowserSegmentBuilder(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	buyer(t, m, "sara@example.com", "Tehran", 1500000, 10)
	buyer(t, m, "mina@example.com", "Tehran", 1200000, 30)
	buyer(t, m, "ali@example.com", "Tehran", 500000, 5)     // spent too little
	buyer(t, m, "nima@example.com", "Shiraz", 2000000, 5)   // another city
	buyer(t, m, "reza@example.com", "Tehran", 3000000, 200) // not lately

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/segments/new"),
		waitJS(`document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder'`),
		chromedp.SendKeys(chromedp.CSS("#name"), "Tehran big spenders"),
		// city is Tehran (an attribute found in the data)
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[0].field"]`, "contact.attributes.city"),
		waitJS(`document.querySelector('[data-path="tree.items[0].op"]').value === 'is'`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].value"]`), "Tehran"),
		// spent more than 1000000
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[1].field"]`, "stats.revenue"),
		setSelect(`[data-path="tree.items[1].op"]`, "gt"),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[1].value"]`), "1000000"),
		// bought in the last 90 days
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[2].field"]`, "stats.last_purchase_at"),
		waitJS(`document.querySelector('[data-path="tree.items[2].op"]').value === 'last_days'`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[2].value"]`), "90"),
	)
	want := `contact.attributes.city == "Tehran" && stats.revenue > 1000000 && days_since(stats.last_purchase_at) < 90`
	steps(t, ctx,
		waitJS(fmt.Sprintf(`document.querySelector('#rule').value === %q`, want)),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '2 contacts'`),
		waitJS(`document.querySelectorAll('#segment-sample li').length === 2`),
	)
	sample := text(t, ctx, "#segment-sample")
	require.Contains(t, sample, "sara@example.com")
	require.Contains(t, sample, "mina@example.com")
	builderScreenshot(t, ctx, "segment-builder-en.png")

	steps(t, ctx,
		clickJS(`[data-segment-editor] button[type=submit]`),
		waitJS(`/\/admin\/segments\/\d+$/.test(location.pathname)`),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	id, err := strconv.ParseInt(regexp.MustCompile(`\d+$`).FindString(loc), 10, 64)
	require.NoError(t, err)

	// The saved page counts the segment; the API counts the same.
	steps(t, ctx, waitJS(`/^\d+ contacts$/.test(document.querySelector('#segment-count').textContent.trim())`))
	shown := text(t, ctx, "#segment-count")
	apiCount, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch('/api/v1/segments/%d/count', {credentials: 'same-origin'}).then(r => r.json()).then(j => j.count)`, id),
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 2, apiCount)
	require.Equal(t, fmt.Sprintf("%d contacts", apiCount), shown)

	// The saved rule opens in the builder: three conditions, the values kept.
	steps(t, ctx, waitJS(`document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder' &&
		document.querySelectorAll('[data-segment-builder] .cond').length === 3 &&
		document.querySelector('[data-path="tree.items[1].value"]').value === '1000000'`))

	// A nested "any" group: … and (email contains sara or email contains mina).
	steps(t, ctx,
		clickJS(`[data-path="tree"] > .actions [data-add=group]`),
		waitJS(`document.querySelector('[data-path="tree.items[3].match"]').value === 'any'`),
		setSelect(`[data-path="tree.items[3].items[0].op"]`, "contains"),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[3].items[0].value"]`), "sara"),
		clickJS(`[data-path="tree.items[3]"] [data-add=condition]`),
		setSelect(`[data-path="tree.items[3].items[1].op"]`, "contains"),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[3].items[1].value"]`), "mina"),
		waitJS(fmt.Sprintf(`document.querySelector('#rule').value === %q`,
			want+` && (contact.email contains "sara" || contact.email contains "mina")`)),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '2 contacts'`),
		// Removing the first name leaves one condition in the group.
		clickJS(`[data-remove="tree.items[3].items[0]"]`),
		waitJS(fmt.Sprintf(`document.querySelector('#rule').value === %q`, want+` && contact.email contains "mina"`)),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '1 contacts'`),
	)

	// A value that does not suit its field is pointed at, in the row.
	steps(t, ctx,
		runJS(`document.querySelector('[data-path="tree.items[1].value"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[1].value"]`), "lots"),
		waitJS(`document.querySelector('[data-path="tree.items[1].value"]').getAttribute('aria-invalid') === 'true' &&
			!document.querySelector('[data-path="tree.items[1]"] [data-row-error]').hidden`),
	)

	// In Persian the builder is right to left; the rule and values stay
	// left to right.
	steps(t, ctx,
		runJS(`document.cookie = 'peykar_lang=fa; path=/admin'`),
		chromedp.Navigate(loc),
		waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder' &&
			document.querySelectorAll('[data-segment-builder] .cond').length === 3`),
	)
	field, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('[data-path="tree.items[1].field"]'); return s.options[s.selectedIndex].text })()`))
	require.NoError(t, err)
	require.Equal(t, "مبلغ خرید (درآمد)", field)
	dirs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#rule').dir + ' ' + document.querySelector('[data-path="tree.items[1].value"]').dir`))
	require.NoError(t, err)
	require.Equal(t, "ltr ltr", dirs)
	builderScreenshot(t, ctx, "segment-builder-fa.png")

	// Persian digits typed in a number are read as digits.
	steps(t, ctx,
		runJS(`document.querySelector('[data-path="tree.items[1].value"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[1].value"]`), "۱۴۰۰۰۰۰"),
		waitJS(`document.querySelector('#rule').value.includes('stats.revenue > 1400000')`),
	)

	// On a 400 px phone the rows wrap: nothing is wider than the screen.
	steps(t, ctx, chromedp.EmulateViewport(400, 900),
		waitJS(`window.innerWidth === 400`),
		waitJS(`document.documentElement.scrollWidth <= 400`))
	builderScreenshot(t, ctx, "segment-builder-phone.png")
	steps(t, ctx, chromedp.EmulateViewport(1280, 900), waitJS(`window.innerWidth === 1280`))

	// A rule the builder cannot show says so, and the text stays.
	steps(t, ctx,
		clickJS(`[data-mode=text]`),
		runJS(`document.querySelector('#rule').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#rule"), `contact.email endsWith "@example.com"`),
		clickJS(`[data-mode=builder]`),
		waitJS(`!document.querySelector('[data-builder-note]').hidden`),
	)
	require.Equal(t, "text", attrOf(t, ctx, "[data-segment-builder]", "data-mode-now"))
	require.Contains(t, text(t, ctx, "[data-builder-note]"), "به‌صورت متن می‌ماند")
}

// attrOf reads an attribute of the element at sel.
func attrOf(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ''`, sel, name)))
	require.NoError(t, err)
	return s
}

// TestBrowserSaveAsSegment: "Save as segment" on an analytics card opens
// the new-segment form filled with the card's rule and name; saving it
// makes a segment that counts what the card counted. An RFM segment row
// does the same with its rule.
func TestBrowserSaveAsSegment(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	for i := 1; i <= 6; i++ {
		email := fmt.Sprintf("buyer%d@example.com", i)
		factory.Contact(t, m.pool, factory.Email(email))
		for p := 0; p < i; p++ {
			purchase(t, m, email, float64(10*i), i*10+p)
		}
	}
	_, err := analytics.Recompute(context.Background(), m.pool, analytics.Config{}, nil)
	require.NoError(t, err)

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/analytics"), chromedp.WaitVisible(chromedp.CSS("#q-most_valuable")))
	cardRule := text(t, ctx, "#q-most_valuable ~ p code")
	cardCount := text(t, ctx, "#q-most_valuable ~ p strong")
	require.NotEmpty(t, cardRule)
	steps(t, ctx,
		clickJS(`section[aria-labelledby="q-most_valuable"] [data-save-segment]`),
		waitJS(`location.pathname === '/admin/segments/new'`),
		waitJS(`/^\d+ contacts$/.test(document.querySelector('#segment-count').textContent.trim())`),
	)
	form, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#name').value, document.querySelector('#rule').value]`))
	require.NoError(t, err)
	require.Equal(t, []string{"Most valuable", cardRule}, form)
	require.Equal(t, cardCount+" contacts", text(t, ctx, "#segment-count"))
	steps(t, ctx,
		clickJS(`[data-segment-editor] button[type=submit]`),
		waitJS(`/\/admin\/segments\/\d+$/.test(location.pathname)`),
	)
	saved, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/segments/' + location.pathname.split('/').pop() + '/count', {credentials: 'same-origin'}).then(r => r.json()).then(j => j.count)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, cardCount, strconv.Itoa(saved))

	// Every cluster row offers its rule too.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/analytics"), chromedp.WaitVisible(chromedp.CSS("#clusters-h")))
	clusters, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#clusters-h ~ .table-wrap tbody tr')].map(tr =>
		tr.cells[0].textContent + ' ' + (tr.querySelector('[data-save-segment]') || {title: ''}).title)`))
	require.NoError(t, err)
	require.NotEmpty(t, clusters)
	for _, c := range clusters {
		id, rule, _ := strings.Cut(c, " ")
		require.Equal(t, "cluster.id == "+id, rule)
	}

	// An RFM segment row opens the form with its rule, shown in the builder.
	steps(t, ctx,
		clickJS(`#rfm-h ~ .table-wrap [data-save-segment]`),
		waitJS(`location.pathname === '/admin/segments/new' && /^rfm\.segment == "\w+"$/.test(document.querySelector('#rule').value)`),
		waitJS(`document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder' &&
			document.querySelector('[data-path="tree.items[0].field"]').value === 'rfm.segment'`),
	)

	// The loyal card's rule (rfm.segment in [...]) opens as "is one of";
	// one more value typed goes into the rule.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/analytics"),
		clickJS(`section[aria-labelledby="q-loyal"] [data-save-segment]`),
		waitJS(`location.pathname === '/admin/segments/new' && document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder'`),
		waitJS(`document.querySelector('[data-path="tree.items[0].op"]').value === 'one_of' &&
			document.querySelector('[data-path="tree.items[0].values"]').value === 'champions, loyal'`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].values"]`), "، at_risk"),
		waitJS(`document.querySelector('#rule').value === 'rfm.segment in ["champions", "loyal", "at_risk"]'`),
	)
}
