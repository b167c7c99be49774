package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserPreferencesPage opens the preference centre of an English and
// of a Persian campaign's message at 400 px, with no login: nothing sticks
// out of the screen, the Persian page is right to left, and unticking a
// topic and saving confirms on the same page. With PEYKAR_SCREENSHOTS set
// it saves preferences.png and preferences-fa.png.
func TestBrowserPreferencesPage(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t)
	steps(t, ctx, chromedp.EmulateViewport(400, 800))
	for _, tc := range []struct{ lang, email, dir, saved, shot string }{
		{"en", "sara@example.com", "ltr", "Your preferences are saved.", "preferences.png"},
		{"fa", "ali@example.com", "rtl", "تنظیمات شما ذخیره شد.", "preferences-fa.png"},
	} {
		page, _, _ := prefsFixture(t, m, tc.lang, tc.email)
		steps(t, ctx, chromedp.Navigate(page), waitJS(`document.querySelector('#prefs') !== null`))
		dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).direction`))
		require.NoError(t, err)
		require.Equal(t, tc.dir, dir)
		over, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
		require.NoError(t, err)
		require.Empty(t, over, "%s page at 400 px", tc.lang)
		prefsScreenshot(t, ctx, tc.shot)
		steps(t, ctx,
			clickJS(`input[name=topic]:checked`),
			clickJS(`#save`),
			waitJS(`document.querySelector('#saved') !== null`))
		require.Equal(t, tc.saved, text(t, ctx, "#saved"))
		checked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name=topic]:checked').length`))
		require.NoError(t, err)
		require.Zero(t, checked)
	}
}

// prefsScreenshot saves the viewport (the phone's screen) to
// $PEYKAR_SCREENSHOTS/name when that is set. A full-page capture of a
// right-to-left page at an emulated width is offset by Chromium, so the
// page is taken as the phone shows it.
func prefsScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}
