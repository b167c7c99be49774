package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

var formPathRe = regexp.MustCompile(`/admin/forms/(\d+)`)

// TestBrowserSignupForm: a marketer creates a form offering two topics on
// the Forms page (URL and snippet to copy, a preview); a visitor fills the
// hosted page in a real browser, ticks one topic and gets the confirmation
// mail; its link and button confirm; the contact is subscribed to that
// topic only, and the Forms page counts the view, the submission and the
// confirmation. The pages fit 400 px in English and Persian (right to
// left), and no page breaks the CSP.
func TestBrowserSignupForm(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	clock := newFormClock()
	m := testMainAt(t, clock.Now, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	a := formAPI{t: t, m: m, token: testToken(t, m, auth.RoleMarketer)}
	news := a.id("/api/v1/topics", map[string]any{"name": "News", "description": "Weekly, on Mondays", "public": true})
	a.id("/api/v1/topics", map[string]any{"name": "Offers", "public": true})

	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/forms"),
		chromedp.WaitVisible(chromedp.CSS("#new-form")),
		clickJS("#new-form"),
		chromedp.WaitVisible(chromedp.CSS("#form-def")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Footer"),
		runJS(`document.querySelectorAll('input[name=topic_ids]').forEach(cb => cb.checked = true)`),
		clickJS("#form-save"),
		chromedp.WaitVisible(chromedp.CSS("#form-saved")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	require.NoError(t, err)
	mt := formPathRe.FindStringSubmatch(loc)
	require.NotNil(t, mt, loc)
	id, _ := strconv.ParseInt(mt[1], 10, 64)
	publicURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#public-url').value`))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("http://peykar.test/f/%d", id), publicURL)
	embed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#embed-html').value`))
	require.NoError(t, err)
	require.Contains(t, embed, fmt.Sprintf(`action="http://peykar.test/f/%d"`, id))
	require.Contains(t, embed, `name="topic" value="`, "two topics: checkboxes")
	// The preview frame shows the form, inert.
	steps(t, ctx, waitJS(`document.querySelector('iframe.form-preview').contentDocument.querySelector('input[name=email]') !== null`))

	// A visitor on the hosted page, at phone width.
	hosted := fmt.Sprintf("%s/f/%d", m.URL(), id)
	steps(t, ctx,
		chromedp.EmulateViewport(400, 800),
		chromedp.Navigate(hosted),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "visitor@example.com"),
		runJS(fmt.Sprintf(`document.querySelector('input[name=topic][value="%d"]').checked = true`, news)),
	)
	requireFits(t, ctx, hosted)
	formScreenshot(t, ctx, "form-hosted.png")
	clock.Add(3 * time.Second) // a person takes a few seconds
	steps(t, ctx,
		clickJS("button[type=submit]"),
		waitJS(`location.pathname.endsWith('/thanks')`),
	)
	require.Contains(t, text(t, ctx, "main"), "check your inbox")

	html := waitMails(t, a, "visitor@example.com", 1)
	link := confirmLinkRe.FindString(html)
	require.NotEmpty(t, link, html)
	status, _ := contactState(t, m, "visitor@example.com", news)
	require.Equal(t, "pending", status)
	steps(t, ctx,
		chromedp.Navigate(m.URL()+link),
		clickJS("button[type=submit]"),
		waitJS(`document.querySelector('h1') && document.querySelector('h1').textContent.includes('confirmed')`),
	)
	var subs []string
	rows, err := m.pool.Query(context.Background(), `SELECT t.name || ':' || ct.status FROM contact_topics ct JOIN topics t ON t.id = ct.topic_id
		JOIN contacts c ON c.id = ct.contact_id WHERE c.email = 'visitor@example.com' ORDER BY t.name`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		subs = append(subs, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"News:subscribed"}, subs, "only the ticked topic")

	// The Persian form: right to left, at phone width.
	a.call(http.StatusOK, http.MethodPatch, fmt.Sprintf("/api/v1/forms/%d", id), map[string]any{"language": "fa"}, nil)
	steps(t, ctx, chromedp.Navigate(hosted), chromedp.WaitVisible(chromedp.CSS("#f-email")))
	dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
	require.NoError(t, err)
	require.Equal(t, "rtl", dir)
	require.Equal(t, "عضویت", strings.TrimSpace(text(t, ctx, "button[type=submit]")))
	requireFits(t, ctx, hosted)
	formScreenshot(t, ctx, "form-hosted-fa.png")

	// The Forms page counts what happened, and fits a phone in both
	// languages.
	steps(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(m.URL()+"/admin/forms"), chromedp.WaitVisible(chromedp.CSS("#forms-table")))
	row := text(t, ctx, "#forms-table tbody tr")
	require.Regexp(t, `Footer\s+2\s+1\s+1\s+50\.0%\s+100\.0%\s+0`, row)
	formScreenshot(t, ctx, "forms.png")
	steps(t, ctx, chromedp.EmulateViewport(400, 800))
	for _, lang := range []string{"en", "fa"} {
		steps(t, ctx, runJS(`document.cookie = 'peykar_lang=`+lang+`; path=/'`))
		for _, p := range []string{"/admin/forms", fmt.Sprintf("/admin/forms/%d", id), "/admin/forms/new"} {
			steps(t, ctx, chromedp.Navigate(m.URL()+p), waitJS(`document.readyState === 'complete'`))
			found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
			require.NoError(t, err)
			require.Empty(t, found, "%s %s at 400 px", lang, p)
		}
	}
}

// requireFits fails when the page scrolls sideways.
func requireFits(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= document.documentElement.clientWidth`))
	require.NoError(t, err)
	require.True(t, fits, "%s scrolls sideways", url)
}

// formScreenshot saves the viewport to $PEYKAR_SCREENSHOTS/name when that
// is set (PEYKAR_SCREENSHOTS=$PWD/docs/images refreshes the docs'
// pictures). The viewport, not the full page: Chromium's full-page capture
// shifts a right-to-left page sideways.
func formScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}
