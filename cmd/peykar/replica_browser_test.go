package main

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/migrations/pgtest"
)

// TestBrowserReplicaDataAge opens a campaign's live report, served from a
// real streaming replica, in headless Chromium: it says "as of N s ago"
// above the numbers, in English and, right to left with Persian digits,
// in Persian, and the page fits a 400 px phone. With PEYKAR_SCREENSHOTS
// set it saves replica-report-en.png and replica-report-fa.png.
func TestBrowserReplicaDataAge(t *testing.T) {
	t.Parallel()
	pair := pgtest.NewReplica(t)
	const email, password = "admin@peykar.test", "correct horse battery"
	m := replicaMain(t, pair, "PEYKAR_ADMIN_EMAIL", email, "PEYKAR_ADMIN_PASSWORD", password)
	token := testToken(t, m, auth.RoleAdmin)
	_, cp := replicaCampaign(t, m, token)
	poll(t, "the report to be served from the replica", func() bool {
		code, age, _ := apiGet(t, m, fmt.Sprintf("/api/v1/campaigns/%d/report", cp.ID), token)
		return code == 200 && age != ""
	})

	ctx := browser(t)
	login(t, ctx, m, email, password)
	steps(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d/live", m.URL(), cp.ID)), chromedp.WaitVisible(chromedp.CSS("#data-age")))
	require.Regexp(t, regexp.MustCompile(`^as of [0-9]+ s ago$`), text(t, ctx, "#data-age"))
	builderFitsPhone(t, ctx)
	dashboardScreenshot(t, ctx, "replica-report-en.png", 1280)

	steps(t, ctx, clickJS(`a[data-lang="fa"]`), waitJS(`document.documentElement.dir === "rtl"`), chromedp.WaitVisible(chromedp.CSS("#data-age")))
	require.Regexp(t, regexp.MustCompile(`^به‌روز تا [۰-۹]+ ثانیه پیش$`), text(t, ctx, "#data-age"))
	builderFitsPhone(t, ctx)
	dashboardScreenshot(t, ctx, "replica-report-fa.png", 1280)
	steps(t, ctx, clickJS(`a[data-lang="en"]`), waitJS(`document.documentElement.dir === "ltr"`))
}
