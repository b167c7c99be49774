package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	jalaali "github.com/jalaali/go-jalaali"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// persianDigits writes s's ASCII digits as Persian digits.
func persianDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + r - '0'
		}
		return r
	}, s)
}

// jalaliMinute is t in loc as the Persian pages write it
// ("۱۴۰۵/۰۹/۱۵ ۱۴:۳۰"), worked out here from the calendar library alone.
func jalaliMinute(t *testing.T, at time.Time, loc *time.Location) string {
	t.Helper()
	v := at.In(loc)
	jy, jm, jd, err := jalaali.ToJalaali(v.Year(), v.Month(), v.Day())
	require.NoError(t, err)
	return persianDigits(fmt.Sprintf("%04d/%02d/%02d %02d:%02d", jy, int(jm), jd, v.Hour(), v.Minute()))
}

// localeScreenshot saves the page to $PEYKAR_SCREENSHOTS/name when that is
// set (PEYKAR_SCREENSHOTS=$PWD/docs/images refreshes the docs' pictures).
func localeScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	// The whole page when it is taller than the window; else the window
	// (a full-page capture of a short right-to-left page comes out shifted).
	tall, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollHeight > window.innerHeight`))
	require.NoError(t, err)
	capture := chromedp.CaptureScreenshot()
	if tall {
		capture = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, capture)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// TestBrowserPersianLocale: a user picks Asia/Tehran on the account page
// and the Persian UI; the campaign list and the reports show Persian
// digits and Jalali dates on that clock; a schedule typed as a Jalali date
// and time is stored as the right UTC instant; the live report, now under
// /admin, speaks Persian with the metrics by their labels.
func TestBrowserPersianLocale(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleAdmin)
	tehran, err := time.LoadLocation("Asia/Tehran")
	require.NoError(t, err)
	id := launchNumbersCampaign(t, m, token)
	require.Eventually(t, func() bool {
		_, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
		return strings.Contains(body, `"status":"finished"`)
	}, time.Minute, 20*time.Millisecond)
	var cp struct {
		LaunchedAt time.Time `json:"launched_at"`
	}
	_, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id, token, nil)
	require.NoError(t, json.Unmarshal([]byte(body), &cp))
	require.False(t, cp.LaunchedAt.IsZero(), body)
	code, body := do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{
		"email": "ok1@example.com", "type": "purchase", "value": 590, "currency": "EUR", "campaign_id": json.Number(id)})
	require.Equal(t, http.StatusAccepted, code, body)
	var r struct {
		Metrics struct {
			Sent, Delivered int64
			Revenue         float64
		}
	}
	require.Eventually(t, func() bool {
		_, body := do(t, m, http.MethodGet, "/api/v1/campaigns/"+id+"/report", token, nil)
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		return r.Metrics.Revenue == 590
	}, time.Minute, 20*time.Millisecond, "the purchase reaches the report")
	sent, delivered := persianDigits(strconv.FormatInt(r.Metrics.Sent, 10)), persianDigits(strconv.FormatInt(r.Metrics.Delivered, 10))

	// The account page offers the browser's own zone until one is chosen.
	login(t, ctx, m, "admin@example.com", "admin password 1")
	browserZone, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Intl.DateTimeFormat().resolvedOptions().timeZone`))
	require.NoError(t, err)
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/account"),
		waitJS(`!document.querySelector('#timezone-detected').hidden`),
		waitJS(fmt.Sprintf(`document.querySelector('#timezone').value === %q`, browserZone)),
		chromedp.SetValue(chromedp.CSS("#timezone"), "Asia/Tehran"),
		clickJS(`#zone-form button[type=submit]`),
		waitJS(`location.search === '?zone=saved' && document.querySelector('#timezone').value === 'Asia/Tehran'`),
	)
	var admin struct{ ID int64 }
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'admin@example.com'`).Scan(&admin.ID))
	zone, err := auth.Timezone(context.Background(), m.pool, admin.ID)
	require.NoError(t, err)
	require.Equal(t, "Asia/Tehran", zone)

	// Persian: the campaign list.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns"),
		clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === "rtl" && document.readyState === "complete"`),
	)
	row := fmt.Sprintf(`tr:has(a[href="/admin/campaigns/%s"])`, id)
	require.Equal(t, sent, text(t, ctx, row+" td:nth-child(3)"), "sent, in Persian digits")
	require.Equal(t, jalaliMinute(t, cp.LaunchedAt, tehran), text(t, ctx, row+" td:nth-child(7)"), "launched, Jalali, on Tehran's clock")
	localeScreenshot(t, ctx, "campaigns-fa.png")

	// The campaign's report: Persian digits, Jalali intervals.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/campaigns/"+id), waitJS(`document.querySelector('#campaign-chart') !== null`))
	require.Regexp(t, `^۵۹۰٫۰۰[\s\x{00a0}]€$`, text(t, ctx, "#card-revenue .value"), "the amount, then the sign")
	interval, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#campaign-chart details tbody td').textContent`))
	require.NoError(t, err)
	require.Regexp(t, `^[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}`, interval, "the timeline's intervals")

	// The live report, moved under /admin: Persian labels and digits.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/api/v1/campaigns/"+id+"/report.html"),
		waitJS(fmt.Sprintf(`location.pathname === "/admin/campaigns/%s/live"`, id)),
		waitJS(`document.getElementById('live').textContent === 'زنده'`),
	)
	require.Equal(t, "نرخ باز شدن", text(t, ctx, `.card:has([data-metric="open_rate"]) .label`))
	require.Equal(t, sent, text(t, ctx, `[data-metric="sent"]`))
	require.Equal(t, delivered, text(t, ctx, `[data-metric="delivered"]`))
	axis, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#live-chart svg text')].map(e => e.textContent).find(s => s.includes('/')) || ''`))
	require.NoError(t, err)
	require.Regexp(t, `^[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}$`, axis, "the chart's time axis")
	localeScreenshot(t, ctx, "report-fa.png")

	// The standard report's day rows are Jalali days.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/reports"), runJS(`document.querySelector('#standard-days').closest('details').open = true`))
	today := time.Now().UTC()
	jy, jm, jd, err := jalaali.ToJalaali(today.Year(), today.Month(), today.Day())
	require.NoError(t, err)
	require.Contains(t, text(t, ctx, "#standard-days"), persianDigits(fmt.Sprintf("%04d/%02d/%02d", jy, int(jm), jd)))

	// A schedule typed as a Jalali date on Tehran's clock: the echo shows
	// the Gregorian time and the UTC instant, and the API stores that.
	gy, gm, gd, err := jalaali.ToGregorian(1410, jalaali.Farvardin, 1)
	require.NoError(t, err)
	want := time.Date(gy, gm, gd, 9, 0, 0, 0, tehran).UTC()
	require.Equal(t, "05:30", want.Format("15:04"), "Tehran is UTC+3:30")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Nowruz 1410"),
		chromedp.SendKeys(chromedp.CSS(`[name="from.email"]`), "news@shop.example"),
		chromedp.SetValue(chromedp.CSS(`#f-segment_id`), "1"),
		chromedp.SetValue(chromedp.CSS(`[name="steps[0].template_id"]`), "1"),
		chromedp.SendKeys(chromedp.CSS(`#f-scheduled_at`), "۱۴۱۰/۰۱/۰۱ ۰۹:۰۰"),
		waitJS(fmt.Sprintf(`document.querySelector('#g-scheduled_at').textContent.includes(%q)`, want.Format("2006-01-02 15:04")+" UTC")),
		clickJS(`form.stack > button[type=submit]`),
		waitJS(`/\/admin\/campaigns\/\d+$/.test(location.pathname)`),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	newID := loc[strings.LastIndex(loc, "/")+1:]
	_, err = strconv.Atoi(newID)
	require.NoError(t, err)
	require.Equal(t, "۱۴۱۰/۰۱/۰۱ ۰۹:۰۰", text(t, ctx, "#scheduled-at"), "shown back on the user's clock")
	code, body = do(t, m, http.MethodGet, "/api/v1/campaigns/"+newID, token, nil)
	require.Equal(t, http.StatusOK, code, body)
	var saved struct {
		ScheduledAt *time.Time `json:"scheduled_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &saved))
	require.NotNil(t, saved.ScheduledAt, body)
	require.True(t, want.Equal(*saved.ScheduledAt), "stored %s, want %s", saved.ScheduledAt, want)
	require.Contains(t, body, `"scheduled_at":"`+want.Format("2006-01-02T15:04:05Z")+`"`)
}
