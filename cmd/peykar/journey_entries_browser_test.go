package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestBrowserJourneyEntries opens a triggered campaign's entries page in
// a real browser at phone width (400 px), in English and in Persian: every
// entry is listed, the page does not scroll sideways, the Persian page is
// right to left with its dates in Persian digits and its statuses
// translated, and the campaign page's exited count leads to the filtered
// list. With PEYKAR_SCREENSHOTS set it saves journey-entries.png and
// journey-entries-fa.png.
func TestBrowserJourneyEntries(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleMarketer)
	id := journeyWithEntries(t, m, token, []string{"sara.long.address@example.com", "reza@example.com", "mina@example.com"})
	page := fmt.Sprintf("%s/admin/campaigns/%d/entries", m.URL(), id)
	const fits = `document.documentElement.scrollWidth <= window.innerWidth`

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx, chromedp.EmulateViewport(400, 800), chromedp.Navigate(page),
		waitJS(`document.querySelectorAll('#entries tbody tr').length === 3`), waitJS(fits))
	require.Contains(t, text(t, ctx, "#entries"), "sara.long.address@example.com")
	require.Contains(t, text(t, ctx, "#entries"), "Exited")
	entriesScreenshot(t, ctx, "journey-entries.png")

	steps(t, ctx, clickJS(`[data-lang="fa"]`), waitJS(`document.documentElement.dir === 'rtl' && document.querySelectorAll('#entries tbody tr').length === 3`),
		waitJS(fits))
	require.Contains(t, text(t, ctx, "#entries"), "خارج‌شده")
	require.Regexp(t, regexp.MustCompile(`[۰-۹]`), text(t, ctx, "#entries .entry-at"), "Persian digits")
	entriesScreenshot(t, ctx, "journey-entries-fa.png")

	// The campaign page's exited count opens the list of exited entries.
	steps(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), id)), clickJS("#entries-exited"),
		waitJS(`location.search === '?status=exited' && document.querySelectorAll('#entries tbody tr').length === 1`), waitJS(fits))
	require.Contains(t, text(t, ctx, "#entries"), "sara.long.address@example.com")
}

// entriesScreenshot saves the page, 400 px wide at its full height, to
// $PEYKAR_SCREENSHOTS/name when that is set. The viewport is made as tall
// as the page (a full-page capture of a right-to-left page can start off
// its right edge), then put back.
func entriesScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(t, err)
	steps(t, ctx, chromedp.EmulateViewport(400, h))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	steps(t, ctx, chromedp.EmulateViewport(400, 800))
}
