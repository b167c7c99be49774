package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
)

// failOnCSPViolations makes every browser test fail when a page it opened
// broke the content security policy (a refused script, style, image or
// frame shows in the console, source "security"): such a page looks or
// works broken for real users. It is a net under the whole test; a test
// that must prove a page clean checks pageViolations once it is loaded.
func failOnCSPViolations(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	watch, stop := context.WithCancel(ctx)
	messages := chromedp.Console(watch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Source == "security" || strings.Contains(m.Text, "Content Security Policy")) && !expectedViolation(m.URL+": "+m.Text) {
				mu.Lock()
				seen = append(seen, m.URL+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
		require.Empty(t, seen, "content security policy violations")
	})
}

// expectedViolations are refusals the policy makes on purpose, each told
// by words that all appear in the report:
//   - Redoc's footer asks Redocly's CDN for its logo; nothing may be
//     fetched from a third party (Redoc then shows no logo).
//   - River UI's validation library (zod) probes whether eval works with
//     Function("") inside a try, and without it validates without eval.
var expectedViolations = [][]string{
	{"https://cdn.redoc.ly/"},
	{"eval", "/admin/jobs/"},
}

// expectedViolation reports whether a violation report is expected.
func expectedViolation(report string) bool {
	for _, words := range expectedViolations {
		all := true
		for _, w := range words {
			all = all && strings.Contains(report, w)
		}
		if all {
			return true
		}
	}
	return false
}

// recordViolations makes every document the tab loads from now on record
// its content security policy violations in window.__csp, before any of
// its own scripts run.
func recordViolations() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.__csp = [];
			document.addEventListener("securitypolicyviolation", (e) => {
				window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
			});`})
		return chromedp.Void{}, err
	}
}

// pageViolations returns the violations the current document recorded
// (see recordViolations).
func pageViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	all, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || ["recordViolations was not set up"]`))
	require.NoError(t, err)
	var v []string
	for _, s := range all {
		if !expectedViolation(s) {
			v = append(v, s)
		}
	}
	return v
}

// TestBrowserPagesKeepTheirPolicy opens the login page as a first-time
// visitor: its stylesheet applies, htmx and app.js run (the language switch
// works) and the content security policy refuses nothing. Then, logged in,
// each kind of page with its own needs loads clean: the admin pages, the
// template editor with its live preview, the campaign report with its
// chart, the API reference (Redoc) and River UI.
func TestBrowserPagesKeepTheirPolicy(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	admin := testToken(t, m, "admin")
	factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("Sara"))
	code, body := do(t, m, "POST", "/api/v1/segments", admin, map[string]string{"name": "all", "rule": "true"})
	require.Equal(t, 201, code, body)
	code, body = do(t, m, "POST", "/api/v1/campaigns", admin, map[string]any{"name": "Spring", "segment_id": 1, "channel": "email",
		"from": map[string]string{"name": "Shop", "email": "news@shop.example"}, "steps": []any{}})
	require.Equal(t, 201, code, body)

	steps(t, ctx,
		recordViolations(),
		chromedp.Navigate(m.URL()+"/admin/login"),
		waitJS(`document.readyState === "complete" && window.htmx !== undefined`),
	)
	styled, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).display`))
	require.NoError(t, err)
	require.Equal(t, "flex", styled, "app.css applies on a first visit")
	require.Empty(t, pageViolations(t, ctx), "/admin/login")
	steps(t, ctx,
		clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === "rtl" && document.readyState === "complete"`),
		clickJS(`a[data-lang="en"]`),
		waitJS(`document.documentElement.dir === "ltr" && document.readyState === "complete"`),
	)

	login(t, ctx, m, "admin@example.com", "admin password 1")
	pages := []struct{ path, ready string }{
		{"/admin/campaigns", `document.querySelector("h1") !== null`},
		{"/admin/campaigns/1", `document.querySelector("#status") !== null`},
		{"/admin/templates/new", `(document.querySelector("#preview").srcdoc || "").includes("Hello")`},
		{"/api/v1/campaigns/1/report.html", `document.querySelector("#live-body") !== null && location.pathname === "/admin/campaigns/1/live"`},
		{"/admin/reports/compare?ids=1", `document.querySelector("#comparison-page") !== null`},
		{"/admin/api", `document.body.innerText.includes("/contacts/{id}")`},
		{"/admin/jobs/", `document.querySelector("#root").innerText.includes("Jobs")`},
	}
	for _, p := range pages {
		steps(t, ctx, chromedp.Navigate(m.URL()+p.path), waitJS(`document.readyState === "complete" && `+p.ready))
		require.Empty(t, pageViolations(t, ctx), p.path)
	}

	// River UI's own buttons still work: its requests pass the same-origin
	// check that refuses cross-site ones.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/jobs/queues"), clickJS(`button[title="Pause"]`))
	require.Eventually(t, func() bool {
		var paused bool
		err := m.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM river_queue WHERE paused_at IS NOT NULL)`).Scan(&paused)
		return err == nil && paused
	}, time.Minute, 50*time.Millisecond, "River UI paused the queue")
}
