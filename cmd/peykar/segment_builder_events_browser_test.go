package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/factory"
)

// cartAbandoned records an abandoned cart by the contact, days ago.
func cartAbandoned(t *testing.T, m *Main, email string, daysAgo int) {
	t.Helper()
	at := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	_, _, err := contacts.RecordEvent(context.Background(), m.pool, nil, contacts.EventInput{Email: email, Type: "cart_abandoned", OccurredAt: &at})
	require.NoError(t, err)
}

// TestBrowserSegmentBuilderEvents builds "abandoned a cart in the last 7
// days, bought nothing in that time, and did not open the Nowruz sale"
// with clicks: the event type comes from the recorded events, the window
// is typed, the campaign picked; the rule and the live count follow, a
// bad window is pointed at in its row, and the saved rule opens in the
// builder again, in Persian too.
func TestBrowserSegmentBuilderEvents(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	for _, email := range []string{"sara@example.com", "mina@example.com", "ali@example.com", "reza@example.com"} {
		factory.Contact(t, m.pool, factory.Email(email))
	}
	cartAbandoned(t, m, "sara@example.com", 2)
	cartAbandoned(t, m, "mina@example.com", 3)
	cartAbandoned(t, m, "ali@example.com", 1)
	purchase(t, m, "ali@example.com", 40, 1)    // bought after all
	cartAbandoned(t, m, "reza@example.com", 20) // too long ago
	var camp int64
	// A finished campaign and its deliveries: states only a launch and the
	// tracking writer make, planted for the picker and the condition.
	require.NoError(t, m.pool.QueryRow(context.Background(), `INSERT INTO campaigns (name, status) VALUES ('Nowruz sale', 'finished') RETURNING id`).Scan(&camp))
	_, err := m.pool.Exec(context.Background(), `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at, first_open_at)
		SELECT $1, 'main', id, 'sent', now() - interval '2 days', CASE WHEN email = 'mina@example.com' THEN now() - interval '1 day' END
		FROM contacts`, camp)
	require.NoError(t, err)

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/segments/new"),
		waitJS(`document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder'`),
		chromedp.SendKeys(chromedp.CSS("#name"), "Abandoned carts"),
		// number of cart_abandoned events within the last 7d > 0
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[0].field"]`, "events.count"),
		waitJS(`!!document.querySelector('[data-path="tree.items[0].event"]') && !!document.querySelector('[data-path="tree.items[0].window"]')`),
		waitJS(`[...document.querySelector('[data-path="tree.items[0].event"]').list.options].map(o => o.value).includes('cart_abandoned')`),
		runJS(`document.querySelector('[data-path="tree.items[0].event"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].event"]`), "cart_abandoned"),
		setSelect(`[data-path="tree.items[0].op"]`, "gt"),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].value"]`), "0"),
		// number of purchase events within the last 7d = 0
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[1].field"]`, "events.count"),
		waitJS(`!!document.querySelector('[data-path="tree.items[1].event"]')`),
		runJS(`document.querySelector('[data-path="tree.items[1].event"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[1].event"]`), "purchase"),
		setSelect(`[data-path="tree.items[1].op"]`, "eq"),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[1].value"]`), "0"),
		// opened the Nowruz sale: no
		clickJS(`[data-add=condition]`),
		setSelect(`[data-path="tree.items[2].field"]`, "opened"),
		waitJS(fmt.Sprintf(`document.querySelector('[data-path="tree.items[2].value"]').value === '%d'`, camp)),
		setSelect(`[data-path="tree.items[2].op"]`, "not_engaged"),
	)
	want := fmt.Sprintf(`events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0 && !opened(%d)`, camp)
	steps(t, ctx,
		waitJS(fmt.Sprintf(`document.querySelector('#rule').value === %q`, want)),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '1 contacts'`),
	)
	require.Contains(t, text(t, ctx, "#segment-sample"), "sara@example.com")
	picked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('[data-path="tree.items[2].value"]'); return s.options[s.selectedIndex].text })()`))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("Nowruz sale (#%d)", camp), picked)
	builderScreenshot(t, ctx, "segment-builder-events.png")

	// A window that is not a duration is pointed at in its row; a wider
	// one takes reza's old cart in.
	steps(t, ctx,
		runJS(`document.querySelector('[data-path="tree.items[0].window"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].window"]`), "a week"),
		waitJS(`document.querySelector('[data-path="tree.items[0].window"]').getAttribute('aria-invalid') === 'true' &&
			!document.querySelector('[data-path="tree.items[0]"] [data-row-error]').hidden`),
		runJS(`document.querySelector('[data-path="tree.items[0].window"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-path="tree.items[0].window"]`), "30d"),
		waitJS(`document.querySelector('#rule').value.startsWith('events.count("cart_abandoned", "30d") > 0')`),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '2 contacts'`),
	)

	steps(t, ctx,
		clickJS(`[data-segment-editor] button[type=submit]`),
		waitJS(`/\/admin\/segments\/\d+$/.test(location.pathname)`),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '2 contacts'`),
		// The saved rule opens in the builder: three conditions, the event,
		// window and campaign kept.
		waitJS(`document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder' &&
			document.querySelectorAll('[data-segment-builder] .cond').length === 3 &&
			document.querySelector('[data-path="tree.items[0].event"]').value === 'cart_abandoned' &&
			document.querySelector('[data-path="tree.items[0].window"]').value === '30d'`),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)

	// In Persian the labels are Persian and the page right to left; the
	// window and event type stay left to right where they must.
	steps(t, ctx,
		runJS(`document.cookie = 'peykar_lang=fa; path=/admin'`),
		chromedp.Navigate(loc),
		waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('[data-segment-builder]').getAttribute('data-mode-now') === 'builder' &&
			document.querySelectorAll('[data-segment-builder] .cond').length === 3`),
	)
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('[data-path="tree.items[0].field"]');
		const o = document.querySelector('[data-path="tree.items[2].op"]');
		return s.options[s.selectedIndex].text + ' | ' + o.options[o.selectedIndex].text + ' | ' + document.querySelector('[data-path="tree.items[0].window"]').dir })()`))
	require.NoError(t, err)
	require.Equal(t, "تعداد رویدادها | خیر | ltr", labels)

	// On a 400 px phone the rows wrap: nothing is wider than the screen.
	steps(t, ctx, chromedp.EmulateViewport(400, 900),
		waitJS(`window.innerWidth === 400`),
		waitJS(`document.documentElement.scrollWidth <= 400`))
}
