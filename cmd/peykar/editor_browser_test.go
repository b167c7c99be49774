package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
)

// gjsEditor is the page's GrapesJS editor (GrapesJS lists the editors it
// made in grapesjs.editors).
const gjsEditor = `grapesjs.editors[grapesjs.editors.length - 1]`

// TestBrowserVisualEditorFromGalleryInPersian drives the template editor
// as a Persian-speaking marketer: start from the gallery's Persian welcome
// template, open it in the visual editor (GrapesJS), add blocks, see the
// pre-send checks and the desktop and phone previews, save, and reopen it
// with its design restored. Then break the template in the code view and
// see the error in place of the preview.
func TestBrowserVisualEditorFromGalleryInPersian(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	// The public base URL is this server's own address, so the gallery's
	// images (served by Peykar, absolute URLs) load in the editor.
	addr := freeAddr(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1",
		"PEYKAR_ADDR", addr, "PEYKAR_BASE_URL", "http://"+addr)
	factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("سارا"), factory.Attr("city", "اصفهان"))
	factory.Contact(t, m.pool, factory.Email("ali@example.com"), factory.Name("Ali"))
	login(t, ctx, m, "admin@example.com", "admin password 1")
	shots := os.Getenv("PEYKAR_SCREENSHOTS")

	// English first, for the English screenshot: the gallery's newsletter
	// in the visual editor.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/templates/new"),
		clickJS(`[data-gallery="newsletter.en"]`),
		waitJS(`(document.querySelector('#html') || {value: ''}).value.includes('New arrivals')`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-editor-ready') === '1'`),
		clickJS(`#mode-visual`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-visual-ready') === '1'`),
		// The panels' icon font is Peykar's own copy (no CDN: the policy
		// allows fonts from 'self' only), and it loads.
		waitJS(`[...document.fonts].some(f => f.family.replace(/["']/g, '') === 'FontAwesome' && f.status === 'loaded')`),
		// The newsletter's header image comes from Peykar itself and loads.
		waitJS(`[...document.querySelector('#gjs iframe').contentDocument.images].some(i => i.src.endsWith('/admin/assets/email/newsletter.png') && i.complete && i.naturalWidth === 560)`),
		waitJS(`document.querySelectorAll('#checks li').length > 0`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-preview-loaded') === '1'`),
	)
	if shots != "" {
		shoot(t, ctx, filepath.Join(shots, "editor-en.png"))
	}

	// Now in Persian: the welcome starter, right to left.
	steps(t, ctx,
		runJS(`document.cookie = "peykar_lang=fa; path=/admin"`),
		chromedp.Navigate(m.URL()+"/admin/templates/new"),
		waitJS(`document.documentElement.dir === 'rtl'`),
		clickJS(`[data-gallery="welcome.fa"]`),
		waitJS(`(document.querySelector('#html') || {value: ''}).value.includes('dir="rtl"')`),
		waitJS(`document.querySelector('#direction').value === 'rtl'`),
		waitJS(`(document.querySelector('#preview').srcdoc || '').includes('خوش آمدید') &&
			(document.querySelector('#preview-phone').srcdoc || '').includes('خوش آمدید')`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-editor-ready') === '1'`),
		clickJS(`#mode-visual`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-visual-ready') === '1'`),
		waitJS(`document.querySelector('#gjs iframe').contentDocument.body.dir === 'rtl' &&
			document.querySelector('#gjs iframe').contentDocument.body.textContent.includes('خوش آمدید')`),
	)
	// Every block the issue names is offered.
	blocks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](gjsEditor+`.Blocks.getAll().map(b => b.getId())`))
	require.NoError(t, err)
	for _, want := range []string{"heading", "text", "image", "button", "sect50", "divider", "spacer", "footer", "raw-html"} {
		require.Contains(t, blocks, want)
	}
	// The block panel speaks the page's language: blocks and categories
	// by their Persian names, none left in English.
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](gjsEditor+`.Blocks.getAll().map(b => b.getId() + '=' + b.getLabel() + '@' + b.getCategoryLabel())`))
	require.NoError(t, err)
	for _, want := range []string{"heading=سرتیتر@محتوا", "button=دکمه@محتوا", "sect50=دو ستون@چیدمان", "spacer=فاصله@چیدمان", "raw-html=HTML خام@پیشرفته", "footer=شبکه‌های اجتماعی / پانویس@محتوا"} {
		require.Contains(t, names, want)
	}
	for _, n := range names {
		require.NotRegexp(t, `=[^@]*[A-Za-z]{3}|@[A-Za-z]`, strings.TrimPrefix(n, "raw-html=HTML"), "an English block or category name: %s", n)
	}
	// Drag a heading and a button from the block panel onto the canvas
	// (real mouse and drag events), and edit the heading's words.
	headings := evalInt(t, ctx, gjsEditor+`.getWrapper().find('h1').length`)
	buttons := evalInt(t, ctx, gjsEditor+`.getWrapper().find('a.button').length`)
	dragBlock(t, ctx, "سرتیتر", 0.5, 0.15)
	steps(t, ctx, waitJS(fmt.Sprintf(gjsEditor+`.getWrapper().find('h1').length === %d`, headings+1)))
	dragBlock(t, ctx, "دکمه", 0.5, 0.15)
	steps(t, ctx, waitJS(fmt.Sprintf(gjsEditor+`.getWrapper().find('a.button').length === %d`, buttons+1)))
	steps(t, ctx,
		runJS(`(() => { const hs = `+gjsEditor+`.getWrapper().find('h1'); hs[hs.length - 1].components('حراج تابستان'); })()`),
		waitJS(`(document.querySelector('#html') || {value: ''}).value.includes('حراج تابستان') && document.querySelector('#design').value.includes('حراج تابستان')`),
		waitJS(`(document.querySelector('#preview').srcdoc || '').includes('حراج تابستان')`),
	)
	// The editor writes one document: one <body>, not the editor's own body
	// inside the page's.
	bodies, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(document.querySelector('#html').value.match(/<body[\s>]/gi) || []).length`))
	require.NoError(t, err)
	require.Equal(t, 1, bodies, "one <body> in the HTML the visual editor wrote")
	// The personalisation menu offers the attributes seen in the data.
	steps(t, ctx, waitJS(`[...document.querySelectorAll('#insert-field option')].some(o => o.value.includes('attr "city"'))`))
	// The checks run on what the editor wrote: the unsubscribe link of the
	// starter is there, the preset's button links to "#" (not a web address).
	steps(t, ctx, waitJS(`document.querySelector('#checks [data-check="unsubscribe"].check-ok') !== null &&
		document.querySelector('#checks [data-check="links"].check-fail') !== null`))
	steps(t, ctx,
		clickJS(`#template-save`),
		waitJS(`/\/admin\/templates\/\d+$/.test(location.pathname)`),
	)

	// Saved with its design; it reopens in the visual editor as built.
	var design, html string
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT design::text, html FROM templates ORDER BY id DESC LIMIT 1`).Scan(&design, &html))
	require.Contains(t, design, "حراج تابستان")
	require.Contains(t, html, `dir="rtl"`)
	require.Contains(t, html, "حراج تابستان")
	require.Contains(t, html, "{{ unsubscribe_url }}", "template actions survive the visual editor")
	require.NotContains(t, strings.ToLower(html), "<script")
	steps(t, ctx,
		chromedp.Reload(),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-mode') === 'visual' &&
			document.querySelector('[data-template-editor]').getAttribute('data-visual-ready') === '1'`),
		waitJS(`document.querySelector('#gjs iframe').contentDocument.body.textContent.includes('حراج تابستان')`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-preview-loaded') === '1'`),
	)
	if shots != "" {
		shoot(t, ctx, filepath.Join(shots, "editor-fa.png"))
	}
	// At phone width nothing spills sideways.
	steps(t, ctx,
		chromedp.EmulateViewport(400, 900),
		waitJS(`document.documentElement.scrollWidth <= 400`),
		chromedp.EmulateViewport(1280, 900),
	)

	// Broken in the code view: the error replaces the preview, no older render stays.
	steps(t, ctx,
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-editor-ready') === '1'`),
		clickJS(`#mode-code`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-preview-state') === 'ok'`),
		runJS(`(() => { const ta = document.querySelector('#html'); ta.value = ta.value.replace('</body>', '<p>{{ .Contact.Nmae }}</p></body>'); ta.dispatchEvent(new Event('input')); })()`),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-preview-state') === 'error'`),
	)
	// In the page's language: the API's English is worded in Persian.
	steps(t, ctx, waitJS(`document.querySelector('#preview-error').getAttribute('data-worded') === '1'`))
	worded := text(t, ctx, "#preview-error")
	require.Contains(t, worded, "فیلد «Nmae» در Contact نیست")
	require.NotContains(t, worded, "can't evaluate")
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#preview').srcdoc === '' && document.querySelector('[data-previews]').hidden`))
	require.NoError(t, err)
	require.True(t, gone, "no last good render beside the error")
}

// shoot saves a screenshot of the whole page to path. The viewport is made
// as tall as the page first: sandboxed preview frames (out of process)
// outside the viewport are not painted in a full-page capture.
func shoot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(t, err)
	steps(t, ctx, chromedp.EmulateViewport(1280, h),
		waitJS(`document.querySelector('[data-template-editor]').getAttribute('data-preview-loaded') === '1'`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	steps(t, ctx, chromedp.EmulateViewport(1280, 900))
}

// freeAddr is a loopback address with a port nobody listens on now, for a
// server whose public base URL must name its own address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
