package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserDashboard logs in as a marketer, then as a manager, and reads
// the dashboard at /admin in headless Chromium: each card shows the raw
// rows' numbers and links to its page, the page fits a 400 px phone, and
// the Persian UI lays it out right to left in Persian. With
// PEYKAR_SCREENSHOTS set it saves dashboard-en.png and dashboard-fa.png.
// The manager's segment page shows the live count (a read-only preview).
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	s := newDashboardScenario(t)
	raw := s.raw(t)
	ctx := browser(t)
	m := s.m

	readDashboard := func(who string) {
		t.Helper()
		steps(t, ctx, chromedp.Navigate(m.URL()+"/admin"), chromedp.WaitVisible(chromedp.CSS("#dash-churn")))
		require.Equal(t, strconv.FormatInt(raw.contacts, 10), text(t, ctx, `[data-metric="contacts"]`), who)
		require.Equal(t, strconv.FormatInt(raw.sendable, 10), text(t, ctx, `[data-metric="sendable"]`), who)
		require.Equal(t, strconv.FormatInt(raw.new7, 10), text(t, ctx, `[data-metric="new7"]`), who)
		require.Equal(t, strconv.FormatInt(raw.new30, 10), text(t, ctx, `[data-metric="new30"]`), who)
		require.Equal(t, fmt.Sprintf("%.1f%%", raw.bounceRate*100), text(t, ctx, `[data-metric="bounce_rate"]`), who)
		require.Equal(t, fmt.Sprintf("%.1f%%", raw.complaintRate*100), text(t, ctx, `[data-metric="complaint_rate"]`), who)
		require.Equal(t, strconv.FormatInt(raw.churn, 10), text(t, ctx, `[data-metric="churn"]`), who)
		require.Contains(t, text(t, ctx, "#dash-running"), "Summer", who)
		require.Contains(t, text(t, ctx, "#dash-running"), fmt.Sprintf("%d of %d sent", raw.runningSent, raw.runningTotal), who)
		require.Contains(t, text(t, ctx, "#dash-results"), "Spring", who)
		require.Contains(t, text(t, ctx, "#dash-results"), "reach: met", who)
		require.Equal(t, "/admin", attr(t, ctx, `nav a[aria-current="page"]`, "pathname"), who)
		// Each card links to its page.
		for card, href := range map[string]string{"running": "/admin/campaigns", "results": "/admin/campaigns",
			"audience": "/admin/contacts", "health": "/admin/reports", "churn": "/admin/analytics"} {
			require.Equal(t, href, attr(t, ctx, "#dash-"+card+" h2 a", "pathname"), "%s: %s card", who, card)
		}
		require.Equal(t, fmt.Sprintf("/admin/campaigns/%d", s.running), attr(t, ctx, "#dash-running li a", "pathname"), who)
		// 30 days of growth bars, today's holding the four contacts made today.
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#dash-audience svg.bars rect.bar').length`))
		require.NoError(t, err)
		require.Equal(t, 30, n, who)
		last, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#dash-audience svg.bars rect.bar:last-of-type').getAttribute('data-count')`))
		require.NoError(t, err)
		require.Equal(t, "4", last, "%s: ok1, ok2, hard and later were created today", who)
	}

	login(t, ctx, m, s.marketerEm, s.marketerPW)
	readDashboard("marketer")
	builderFitsPhone(t, ctx)
	dashboardScreenshot(t, ctx, "dashboard-en.png", 1280)
	dashboardScreenshot(t, ctx, "dashboard-phone.png", 400)

	// The Persian UI: right to left, Persian labels, the same numbers in
	// Persian digits.
	steps(t, ctx, clickJS(`a[data-lang="fa"]`), waitJS(`document.documentElement.dir === "rtl"`), chromedp.WaitVisible(chromedp.CSS("#dash-churn")))
	require.Equal(t, "پیشخوان", text(t, ctx, "h1"))
	require.Contains(t, text(t, ctx, "#dash-health"), "نرخ برگشت")
	require.Equal(t, persianDigits(strconv.FormatInt(raw.contacts, 10)), text(t, ctx, `[data-metric="contacts"]`), "in Persian digits")
	dashboardScreenshot(t, ctx, "dashboard-fa.png", 1280)
	builderFitsPhone(t, ctx)
	steps(t, ctx, clickJS(`a[data-lang="en"]`), waitJS(`document.documentElement.dir === "ltr"`))

	// The manager sees the same dashboard, and a segment's live count.
	steps(t, ctx, clickJS(`form.who button`), chromedp.WaitVisible(chromedp.CSS("#email")))
	login(t, ctx, m, s.bossMail, s.bossPW)
	readDashboard("manager")
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/segments/1"), chromedp.WaitVisible(chromedp.CSS("#rule")),
		waitJS(`document.querySelector('#segment-count').textContent.includes('3')`))
	require.Empty(t, text(t, ctx, "#rule-err"), "no refusal for the manager's preview")
}

// attr is the property prop of the element sel (for a link, "pathname").
func attr(t *testing.T, ctx context.Context, sel, prop string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`String(document.querySelector(%q)[%q])`, sel, prop)))
	require.NoError(t, err)
	return v
}

// dashboardScreenshot saves the whole page at width to
// $PEYKAR_SCREENSHOTS/name when that is set. The viewport is made as tall
// as the page and captured as it is (a full-page capture of a right-to-left
// page comes out shifted), then set back to 1280×900.
func dashboardScreenshot(t *testing.T, ctx context.Context, name string, width int64) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	steps(t, ctx, chromedp.EmulateViewport(width, 900), waitJS(fmt.Sprintf(`window.innerWidth === %d`, width)))
	h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(t, err)
	steps(t, ctx, chromedp.EmulateViewport(width, h), waitJS(fmt.Sprintf(`window.innerHeight === %d`, h)))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	steps(t, ctx, chromedp.EmulateViewport(1280, 900), waitJS(`window.innerWidth === 1280`))
}
