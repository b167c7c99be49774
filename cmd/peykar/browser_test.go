package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// browser starts headless chromium for t and returns its tab. Without the
// binary the test is skipped locally and fails in CI (CI=true). When t
// fails, a screenshot of the page goes to test-artifacts/.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need %s in CI: apt-get install -y chromium (%v)", chromiumPath, err)
		}
		t.Skipf("skipping browser test: %s not found (install it with: apt-get install -y chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
		// Chromium's defaults plus the back-forward cache: a page left
		// behind must close its connections (a report's event stream), or
		// the server's shutdown at the end of the test waits for them.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,BackForwardCache"),
	)
	// A safety net so a hung browser cannot hang the suite; steps wait on
	// conditions, not on time.
	base, cancelBase := context.WithTimeout(context.Background(), 5*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	// Start the browser on ctx itself, so that the per-step timeouts (derived
	// contexts) do not own it.
	require.NoError(t, chromedp.Do(ctx))
	failOnCSPViolations(t, ctx)
	t.Cleanup(func() {
		if t.Failed() {
			saveScreenshot(t, ctx)
		}
		cancelCtx()
		cancelAlloc()
		cancelBase()
	})
	return ctx
}

func saveScreenshot(t *testing.T, ctx context.Context) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	dir := filepath.Join("..", "..", "test-artifacts")
	_ = os.MkdirAll(dir, 0o755)
	name := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")+".png")
	if err := os.WriteFile(name, png, 0o644); err == nil {
		t.Logf("screenshot of the failed page: %s", name)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(strings.TrimSuffix(name, ".png")+".html", []byte(html), 0o644)
	}
}

// waitJS waits until the JavaScript expression is truthy. An expression
// that throws counts as not yet true: between a form's submit and the next
// page, the document can briefly lack the elements it reads (null.value).
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	guarded := "(() => { try { return !!(" + expr + "); } catch (e) { return false; } })()"
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			_, err := chromedp.Poll[bool](guarded, chromedp.WithPollingTimeout(60*time.Second))(ctx, tg)
			// A page that navigates while we poll (a form submit) is polled again.
			if err != nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) && ctx.Err() == nil {
				continue
			}
			return chromedp.Void{}, err
		}
	}
}

// clickJS waits until sel matches a rendered element, then clicks it from
// inside the page. chromedp.Click resolves a DOM node id first, and that id
// goes stale when the document is replaced between the lookup and the click
// (a navigation finishing, an htmx swap): "Could not find node with given
// id". A click whose page navigates away before the call returns has
// happened, so that error is not a failure.
func clickJS(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	wait := waitJS(fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el !== null && el.getClientRects().length > 0 })()`, q))
	click := runJS(fmt.Sprintf(`document.querySelector(%s).click()`, q))
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := wait(ctx, tg); err != nil {
			return chromedp.Void{}, err
		}
		_, err := click(ctx, tg)
		if err != nil && (strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) {
			err = nil
		}
		return chromedp.Void{}, err
	}
}

// runJS runs a JavaScript statement, ignoring its value.
func runJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, tg)
		return chromedp.Void{}, err
	}
}

// steps runs actions, giving up after a minute (the page is then saved by
// the failure screenshot: the browser itself stays up).
func steps(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, chromedp.Do(c, actions...))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	q, _ := json.Marshal(sel)
	var s string
	steps(t, ctx, waitJS(fmt.Sprintf(`document.querySelector(%s) !== null`, q)), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var err error
		// textContent read in the page: node ids go stale when the page
		// changes under us, a selector does not.
		s, err = chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%s).innerText`, q))(ctx, tg)
		return chromedp.Void{}, err
	})
	return s
}

func login(t *testing.T, ctx context.Context, m *Main, email, password string) {
	t.Helper()
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("form.who")),
	)
}

// TestBrowserMarketerAndManager drives the admin UI end to end: log in,
// build a segment with its live count, a template with its preview, a
// campaign with a goal and a click rule, launch it, open the caught email
// in the Outbox, click its link and watch the report and the rule follow,
// then log in as a manager and find editing refused.
func TestBrowserMarketerAndManager(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	for _, c := range [][2]string{{"sara@example.com", "سارا"}, {"ali@example.com", "Ali"}, {"nima@example.com", "Nima"}, {"x@other.test", "Other"}} {
		factory.Contact(t, m.pool, factory.Email(c[0]), factory.Name(c[1]))
	}
	_, err := auth.CreateUser(bg, m.pool, "boss@example.com", "manager password", auth.RoleManager)
	require.NoError(t, err)

	login(t, ctx, m, "admin@example.com", "admin password 1")
	require.Equal(t, "Campaigns", text(t, ctx, "h1"))

	// A segment, with the live count as the rule is typed.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/segments/new"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Example people"),
		chromedp.SendKeys(chromedp.CSS("#rule"), `contact.email endsWith "@exmple.com`),
		waitJS(`!document.querySelector('#rule-err').hidden`),
	)
	require.Contains(t, text(t, ctx, "#rule-err"), "^", "the error points at its position")
	steps(t, ctx,
		runJS(`document.querySelector('#rule').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#rule"), `contact.email endsWith "@example.com"`),
		waitJS(`document.querySelector('#segment-count').textContent.trim() === '3 contacts'`),
		waitJS(`document.querySelectorAll('#segment-sample li').length === 3`),
	)
	require.Contains(t, text(t, ctx, "#segment-sample"), "سارا")
	steps(t, ctx,
		clickJS(`[data-segment-editor] button[type=submit]`),
		waitJS(`/\/admin\/segments\/\d+$/.test(location.pathname)`),
	)
	segmentURL, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)

	// A template, previewed for a chosen contact.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/templates/new"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Welcome"),
		waitJS(`document.querySelector('#preview-subject').textContent.startsWith('Hello')`),
		chromedp.SetValue(chromedp.CSS("#contact_id"), "1"),
		runJS(`document.querySelector('#contact_id').dispatchEvent(new Event('input'))`),
		waitJS(`document.querySelector('#preview-subject').textContent === 'Hello سارا'`),
		waitJS(`(document.querySelector('#preview').srcdoc || '').includes('سارا')`),
		clickJS(`[data-template-editor] button[type=submit]`),
		waitJS(`/\/admin\/templates\/\d+$/.test(location.pathname)`),
	)

	// A campaign: the form refuses a broken goal next to the field, then
	// saves, launches and reaches finished.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Spring sale"),
		chromedp.SendKeys(chromedp.CSS(`[name="from.email"]`), "news@shop.example"),
		// Goals and rules are added in place.
		clickJS(`#add-goal`),
		clickJS(`#add-rule`),
		chromedp.SendKeys(chromedp.CSS(`[name="goals[0].name"]`), "clicks"),
		chromedp.SendKeys(chromedp.CSS(`[name="goals[0].when"]`), "ctr >= "),
		// A click rule: tag the contacts who click.
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].name"]`), "clickers"),
		chromedp.SetValue(chromedp.CSS(`[name="rules[0].on"]`), "click"),
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].when"]`), `event.link.url contains "example.com"`),
		chromedp.SetValue(chromedp.CSS(`[name="rules[0].actions[0].type"]`), "add_tag"),
		runJS(`document.querySelector('[name="rules[0].actions[0].type"]').dispatchEvent(new Event('change'))`),
		waitJS(`document.querySelector('[name="rules[0].actions[0].tag"]').closest('[data-for]').hidden === false &&
			document.querySelector('[name="rules[0].actions[0].url"]').closest('[data-for]').hidden === true`),
		chromedp.SendKeys(chromedp.CSS(`[name="rules[0].actions[0].tag"]`), "clicked"),
		chromedp.SetValue(chromedp.CSS(`#f-segment_id`), "1"),
		chromedp.SetValue(chromedp.CSS(`[name="steps[0].template_id"]`), "1"),
		clickJS(`form.stack > button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS("#form-error")),
	)
	require.Contains(t, text(t, ctx, "#form-error"), "The condition of goal 'clicks' has a mistake at line 1")
	require.NotEmpty(t, text(t, ctx, `[name="goals[0].when"] ~ .field-error`), "the error shows next to the field")
	// The rule typed before the refused save is still there, as typed.
	ruleWhen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[name="rules[0].when"]').value + '|' +
		document.querySelector('[name="rules[0].actions[0].tag"]').value`))
	require.NoError(t, err)
	require.Equal(t, `event.link.url contains "example.com"|clicked`, ruleWhen)
	steps(t, ctx,
		runJS(`document.querySelector('[name="goals[0].when"]').value = 'sent >= 3'`),
		chromedp.SetValue(chromedp.CSS(`#f-segment_id`), "1"),
		chromedp.SetValue(chromedp.CSS(`[name="steps[0].template_id"]`), "1"),
		clickJS(`form.stack > button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS("#action-launch")),
		// Launch asks first, saying how many contacts the segment has now;
		// declining leaves the campaign a draft.
		runJS(`window.asked = ''; window.confirm = (q) => { window.asked = q; return false }`),
		clickJS("#action-launch"),
		waitJS(`window.asked.includes('3 contacts')`),
		waitJS(`document.querySelector('#status').textContent === 'draft' && document.querySelector('#action-launch') !== null`),
		runJS(`window.confirm = () => true`),
		clickJS("#action-launch"),
		waitJS(`document.querySelector('#live-status') && document.querySelector('#live-status').textContent === 'finished'`),
	)
	// A finished campaign offers no Launch; its rules can be stopped.
	steps(t, ctx, waitJS(`document.querySelector('#action-launch') === null &&
		document.querySelector('form[data-confirm] #action-cancel') !== null && document.querySelector('#rule-stats') !== null`))
	require.Equal(t, "3", text(t, ctx, "#sent-count"))
	// The headline numbers and the status badge follow without a reload.
	steps(t, ctx, waitJS(`document.querySelector('#live .cards .value').textContent === '3' &&
		document.querySelector('#status').textContent === 'finished'`))
	if dir := os.Getenv("PEYKAR_SCREENSHOTS"); dir != "" {
		// PEYKAR_SCREENSHOTS=$PWD/docs/images refreshes the README's picture.
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "report.png"), png, 0o644))
	}

	// The Outbox shows the caught messages; the HTML view has tracked links.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/outbox?to=sara@example.com"),
		clickJS(`table a`),
		chromedp.WaitVisible(chromedp.CSS("iframe.mail")),
	)
	require.Equal(t, "Hello سارا", text(t, ctx, "h1"))
	src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("iframe.mail"), "src"))
	require.NoError(t, err)
	steps(t, ctx, chromedp.Navigate(m.URL()+src.Value))
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('a')].map(a => a.href)`))
	require.NoError(t, err)
	require.NotEmpty(t, links)
	for _, l := range links {
		require.Contains(t, l, "http://peykar.test/t/", "links are tracked")
	}

	// Sara clicks the link a minute after it arrived (a click within
	// seconds of delivery counts as a scanner's): the report on the open
	// campaign page updates by itself and the click rule tags her.
	// Raw on purpose: the test moves the send time back instead of waiting a minute.
	_, err = m.pool.Exec(bg, `UPDATE deliveries SET sent_at = sent_at - interval '1 minute'`)
	require.NoError(t, err)
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/campaigns/1"), chromedp.WaitVisible(chromedp.CSS("#live")))
	click, err := http.NewRequest(http.MethodGet, m.URL()+strings.TrimPrefix(links[0], "http://peykar.test"), nil)
	require.NoError(t, err)
	click.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	resp, err := noRedirect.Do(click)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	steps(t, ctx, waitJS(`document.querySelector('#live .cards .card:nth-child(3) .label').textContent.includes('(1)')`))
	require.Eventually(t, func() bool {
		var tagged bool
		err := m.pool.QueryRow(bg, `SELECT 'clicked' = ANY(tags) FROM contacts WHERE email = 'sara@example.com'`).Scan(&tagged)
		return err == nil && tagged
	}, time.Minute, 100*time.Millisecond, "the click rule tagged the clicker")

	// The manager may look but not edit.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns"),
		clickJS(`form.who button`),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	login(t, ctx, m, "boss@example.com", "manager password")
	steps(t, ctx, chromedp.Navigate(segmentURL), chromedp.WaitVisible(chromedp.CSS("#rule")))
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-segment-editor] button[type=submit]').length`))
	require.NoError(t, err)
	require.Zero(t, buttons, "no save button for a manager")
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/segments', {method: 'POST', credentials: 'same-origin',
		headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
		body: JSON.stringify({name: 'sneaky', rule: 'true'})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, 403, status, "the API refuses a manager's edit")
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/campaigns/1"), chromedp.WaitVisible(chromedp.CSS("h1")))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[id^=action-]').length`))
	require.NoError(t, err)
	require.Zero(t, n, "no launch/pause/cancel for a manager")
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/admin/campaigns/1/cancel', {method: 'POST', credentials: 'same-origin',
		headers: {'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}}).then(r => String(r.status))`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, "403", page)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("browser test ran out of time")
	}
}

// TestBrowserImportAndTestSend uploads a CSV with a bad line, watches the
// import finish with the line reported, and sends a template test to the
// Outbox.
func TestBrowserImportAndTestSend(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	csv := filepath.Join(t.TempDir(), "people.csv")
	require.NoError(t, os.WriteFile(csv, []byte("email,name,city\nmina@example.com,مینا,Tehran\nnot-an-email,Bad,Nowhere\nreza@example.com,Reza,Shiraz\n"), 0o644))
	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts/import"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csv}),
		clickJS(`form[data-import] button[type=submit]`),
		waitJS(`/\/admin\/imports\/\d+$/.test(location.pathname)`),
		waitJS(`document.querySelector('#import-state') && document.querySelector('#import-state').dataset.state === 'finished'`),
	)
	require.Contains(t, text(t, ctx, "#import-status table"), "3", "the bad line is reported by number")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts?q=mina"),
		clickJS(`table a`),
		chromedp.WaitVisible(chromedp.CSS("#attrs-h")),
	)
	require.Equal(t, "مینا", text(t, ctx, "h1"))
	require.Contains(t, text(t, ctx, "main table"), "Tehran")

	factory.Template(t, m.pool, factory.Subject("Sale for {{ .Contact.Name }}"))
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/templates/1"),
		chromedp.SendKeys(chromedp.CSS("#test_to"), "me@example.com"),
		clickJS(`[data-test-send]`),
		waitJS(`document.querySelector('[data-test-result]').textContent.startsWith('Sent')`),
		chromedp.Navigate(m.URL()+"/admin/outbox"),
	)
	require.Contains(t, text(t, ctx, "main table"), "me@example.com")

	// The header's language switch turns the admin Persian, right to left,
	// and stays so on the next page.
	steps(t, ctx,
		clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.Navigate(m.URL()+"/admin/campaigns"),
		waitJS(`document.documentElement.lang === 'fa'`),
	)
	require.Equal(t, "کارزارها", text(t, ctx, "h1"))
}
