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

// overflowJS lists what makes a page wider than the screen: the document
// scrolling sideways, or an element reaching outside the viewport that no
// scroll (or clipping) container holds. Elements deliberately moved off
// screen (the skip link, visually hidden labels) are not counted.
const overflowJS = `(() => {
  const de = document.documentElement, vw = de.clientWidth, out = [];
  if (de.scrollWidth > vw) out.push('the document scrolls sideways: ' + de.scrollWidth + ' > ' + vw);
  const held = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '') + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden') continue;
    if ((s.position === 'absolute' || s.position === 'fixed') && (r.right <= 0 || r.left >= vw || r.width <= 1)) continue;
    if (r.right > vw + 1 || r.left < -1) {
      if (!held(el)) out.push(name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
    }
  }
  return out.slice(0, 8);
})()`

// TestBrowserPhoneWidth visits every admin page at 400 px, in English and
// Persian, and fails when a page scrolls sideways or something sticks out
// of the screen outside a scroll container; on the report, every column of
// a table is reached by scrolling its wrapper, which says so (a hint,
// mirrored in Persian).
func TestBrowserPhoneWidth(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleMarketer)
	id := launchJourneyCampaign(t, m, token)
	bg := context.Background()
	var msgID, contactID int64
	require.NoError(t, m.pool.QueryRow(bg, `SELECT min(id) FROM outbox_messages`).Scan(&msgID))
	require.NoError(t, m.pool.QueryRow(bg, `SELECT min(id) FROM contacts`).Scan(&contactID))
	// Every admin page (not the fragments htmx swaps into them: a
	// campaign's journey map and progress), and the report pages.
	pages := []string{
		"/admin/campaigns", "/admin/campaigns/new", fmt.Sprintf("/admin/campaigns/%d", id), fmt.Sprintf("/admin/campaigns/%d/edit", id),
		"/admin/contacts", fmt.Sprintf("/admin/contacts/%d", contactID), "/admin/contacts/import", "/admin/suppressions",
		"/admin/segments", "/admin/segments/new", "/admin/segments/1",
		"/admin/templates", "/admin/templates/new", "/admin/templates/1",
		"/admin/analytics", "/admin/reports", "/admin/outbox", fmt.Sprintf("/admin/outbox/%d", msgID),
		"/admin/users", "/admin/account", "/admin/tokens", "/admin/help/expr", "/admin/api",
		fmt.Sprintf("/api/v1/campaigns/%d/report.html", id), fmt.Sprintf("/api/v1/reports/compare.html?ids=%d", id),
	}

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx, chromedp.EmulateViewport(400, 800))
	for _, lang := range []string{"en", "fa"} {
		steps(t, ctx, runJS(`document.cookie = 'peykar_lang=`+lang+`; path=/'`))
		var problems []string
		for _, p := range pages {
			steps(t, ctx, chromedp.Navigate(m.URL()+p), waitJS(`document.readyState === 'complete'`))
			found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
			require.NoError(t, err)
			for _, f := range found {
				problems = append(problems, lang+" "+p+": "+f)
			}
		}
		require.Empty(t, problems, "at 400 px:\n%s", strings.Join(problems, "\n"))
		phoneTables(t, ctx, fmt.Sprintf("%s/api/v1/campaigns/%d/report.html", m.URL(), id), "report-phone-"+lang+".png")
		phoneTables(t, ctx, fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), id), "")
		phoneTables(t, ctx, m.URL()+"/admin/campaigns", "")
	}
	// Leave the report: its event stream would hold up the server's
	// shutdown (the browser closes after the server).
	steps(t, ctx, chromedp.Navigate("about:blank"))
}

// phoneTables opens url at phone width: some table is wider than the
// screen, each such table's last column is reached by scrolling its
// wrapper (towards the end: leftwards in right-to-left pages), and the
// wrapper's hint shows. The page is then saved as screenshot (when not ""
// and PEYKAR_SCREENSHOTS is set), its tables scrolled to their end.
func phoneTables(t *testing.T, ctx context.Context, url, screenshot string) {
	t.Helper()
	steps(t, ctx, chromedp.Navigate(url), waitJS(`document.readyState === 'complete'`),
		// app.js adds the admin pages' hints once the page has loaded.
		waitJS(`[...document.querySelectorAll('.table-wrap')].every(w => w.previousElementSibling && w.previousElementSibling.matches('.scroll-hint'))`),
		// A table that grows after the load (a report's live numbers) shows
		// its hint once app.js sees the new size: wait for that, so the
		// check below reads a settled page (it still fails if it never does).
		waitJS(`[...document.querySelectorAll('.table-wrap')].every(w => w.firstElementChild.scrollWidth <= w.clientWidth || w.previousElementSibling.getClientRects().length > 0)`))
	reached, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
	  const out = [], vw = document.documentElement.clientWidth;
	  for (const table of document.querySelectorAll('table')) {
	    const wrap = table.parentElement;
	    if (table.scrollWidth <= wrap.clientWidth) continue;
	    const cell = table.querySelector('tr:last-child > :last-child') || table.querySelector('tr > :last-child');
	    const rtl = getComputedStyle(wrap).direction === 'rtl';
	    wrap.scrollLeft = rtl ? -wrap.scrollWidth : wrap.scrollWidth;
	    const r = cell.getBoundingClientRect();
	    const hint = wrap.previousElementSibling && wrap.previousElementSibling.matches('.scroll-hint') && wrap.previousElementSibling.getClientRects().length > 0;
	    out.push((r.left >= -1 && r.right <= vw + 1 ? 'reached' : 'unreached ' + Math.round(r.left) + '..' + Math.round(r.right)) + (hint ? ' hint' : ' nohint'));
	  }
	  return out;
	})()`))
	require.NoError(t, err)
	require.NotEmpty(t, reached, "some table of %s is wider than a phone", url)
	for _, r := range reached {
		require.Equal(t, "reached hint", r, url)
	}
	if screenshot != "" {
		builderScreenshot(t, ctx, screenshot)
	}
}
