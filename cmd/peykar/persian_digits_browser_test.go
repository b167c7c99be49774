package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// latinDigitsJS lists the visible text of the page (SVG text included)
// that holds a Latin digit, outside what is written as typed: code and
// expressions (code, pre, .mono, anything inside the page set left to
// right by dir="ltr"),
// form fields, tooltips and email addresses.
const latinDigitsJS = `(() => {
	const skip = 'code, pre, kbd, samp, body [dir="ltr"], input, textarea, select, option, script, style, title, .mono, .journey-code, [hidden]';
	const out = [];
	const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	while (w.nextNode()) {
		const n = w.currentNode, el = n.parentElement;
		if (!el || el.closest(skip) || el.getClientRects().length === 0) continue;
		const s = n.textContent.replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '');
		if (/[0-9]/.test(s)) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ': ' + n.textContent.trim());
	}
	return out;
})()`

// TestBrowserPersianDigitsEverywhere opens the everyday pages in Persian
// (the dashboard, the campaign list, a launched campaign with its journey
// map after its live numbers arrive, the contact list, the segment list,
// a segment with its live count, the reports) and finds no Latin digit in
// their visible text, outside code, form fields and email addresses. On
// the reports page a Jalali from date typed in Persian digits is echoed as
// its Gregorian date and chooses the report's days.
func TestBrowserPersianDigitsEverywhere(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleMarketer)
	id := launchJourneyCampaign(t, m, token)
	var seg int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT id FROM segments WHERE name = 'Everyone'`).Scan(&seg))

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin"), clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === "rtl" && document.readyState === "complete"`))
	pages := []struct {
		path  string
		ready string // JS true once the page's numbers are in
	}{
		{"/admin", `document.querySelector('main') !== null`},
		{"/admin/campaigns", `document.querySelector('main') !== null`},
		{fmt.Sprintf("/admin/campaigns/%d", id), `Number((document.querySelector('#journey') || {dataset: {}}).dataset.updates || 0) >= 1`},
		{"/admin/contacts", `document.querySelector('#contacts-table') !== null`},
		{"/admin/segments", `document.querySelector('main') !== null`},
		{fmt.Sprintf("/admin/segments/%d", seg), `/[۰-۹]/.test(document.querySelector('#segment-count').textContent)`},
		{"/admin/reports", `document.querySelector('#standard') !== null`},
	}
	for _, p := range pages {
		steps(t, ctx, chromedp.Navigate(m.URL()+p.path),
			waitJS(`document.readyState === "complete" && document.documentElement.lang === "fa" && (`+p.ready+`)`))
		latin, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](latinDigitsJS))
		require.NoError(t, err)
		require.Empty(t, latin, "%s: Latin digits in the Persian page:\n%s", p.path, strings.Join(latin, "\n"))
	}

	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/reports"), waitJS(`document.querySelector('#standard') !== null`),
		runJS(`(() => { const f = document.querySelector('#r-from'); f.value = '۱۴۰۵/۰۹/۰۱'; f.dispatchEvent(new Event('input', {bubbles: true})); })()`),
		waitJS(`document.querySelector('#g-from').textContent === '= ۲۰۲۶-۱۱-۲۲ میلادی'`),
		clickJS(`#standard-form button[type=submit]`),
		waitJS(`new URLSearchParams(location.search).get('from') === '۱۴۰۵/۰۹/۰۱' && document.querySelector('#standard-csv') !== null`),
	)
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#standard-csv').getAttribute('href')`))
	require.NoError(t, err)
	require.Contains(t, csv, "from=2026-11-22", "the report is for the Gregorian day the Jalali date names")

	// The scan can fail: the same page in English has digits it would find.
	steps(t, ctx, clickJS(`a[data-lang="en"]`), waitJS(`document.documentElement.lang === "en" && document.readyState === "complete"`),
		chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), id)),
		waitJS(`Number((document.querySelector('#journey') || {dataset: {}}).dataset.updates || 0) >= 1`))
	latin, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](latinDigitsJS))
	require.NoError(t, err)
	require.Contains(t, strings.Join(latin, "\n"), "tspan#j-step-main-sent: 2", "English pages write Latin digits, the map's too")
}
