package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// point is a position in the page's viewport, in CSS pixels.
type point struct{ X, Y float64 }

// dragBlock drags the visual editor's block labelled label from the block
// panel onto the canvas at the given share of its width and height, with
// the browser's own drag and drop: a real mouse press on the block and
// moves start the native drag (GrapesJS blocks use HTML5 drag and drop),
// which Chrome hands to us (Input.setInterceptDrags) so we can enter, move
// over and drop on the canvas with its data.
func dragBlock(t *testing.T, ctx context.Context, label string, atX, atY float64) {
	t.Helper()
	openBlocks := fmt.Sprintf(`(() => {
		const b = [...document.querySelectorAll('.gjs-block')].find(b => b.textContent.trim() === %q);
		if (!b || b.getClientRects().length === 0) { `+gjsEditor+`.runCommand('open-blocks'); return false; }
		document.querySelector('#gjs').scrollIntoView({block: 'start'});
		b.scrollIntoView({block: 'nearest'});
		return true;
	})()`, label)
	steps(t, ctx, waitJS(openBlocks))
	// Both ends are measured after the scrolling, in one viewport.
	from, err := chromedp.Run(ctx, chromedp.Evaluate[point](fmt.Sprintf(`(() => {
		const r = [...document.querySelectorAll('.gjs-block')].find(b => b.textContent.trim() === %q).getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`, label)))
	require.NoError(t, err)
	to, err := chromedp.Run(ctx, chromedp.Evaluate[point](fmt.Sprintf(`(() => {
		const r = document.querySelector('#gjs iframe').getBoundingClientRect();
		return {X: r.left + r.width * %f, Y: r.top + r.height * %f};
	})()`, atX, atY)))
	require.NoError(t, err)

	dragged := make(chan *input.DragData, 1)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	require.NoError(t, chromedp.Listen(lctx, func(ev any) {
		if e, ok := ev.(*input.EventDragIntercepted); ok {
			select {
			case dragged <- e.Data:
			default:
			}
		}
	}))
	_, err = chromedp.Call(ctx, input.SetInterceptDrags, input.SetInterceptDragsParams{Enabled: true})
	require.NoError(t, err)
	defer func() {
		_, _ = chromedp.Call(ctx, input.SetInterceptDrags, input.SetInterceptDragsParams{Enabled: false})
	}()
	mouse := func(typ input.DispatchMouseEventType, p point, buttons int64) {
		t.Helper()
		params := input.DispatchMouseEventParams{Type: typ, X: p.X, Y: p.Y, Button: input.MouseButtonLeft, Buttons: buttons, ClickCount: 1}
		if typ == input.DispatchMouseEventTypeMouseMoved {
			params.ClickCount = 0
		}
		_, err := chromedp.Call(ctx, input.DispatchMouseEvent, params)
		require.NoError(t, err)
	}
	mouse(input.DispatchMouseEventTypeMousePressed, from, 1)
	var data *input.DragData
	// Moving with the button held starts the drag; a few steps, as a hand
	// would, until Chrome reports it (no clock involved: each move is an
	// event the page handles before the call returns).
	for i := 1; data == nil && i <= 50; i++ {
		mouse(input.DispatchMouseEventTypeMouseMoved, point{from.X + float64(i)*(to.X-from.X)/50, from.Y + float64(i)*(to.Y-from.Y)/50}, 1)
		select {
		case data = <-dragged:
		default:
		}
	}
	if data == nil {
		wait, cancel := context.WithTimeout(ctx, time.Minute) // as steps: a bound on a hung browser
		defer cancel()
		select {
		case data = <-dragged:
		case <-wait.Done():
		}
	}
	require.NotNil(t, data, "the block's drag started")
	drag := func(typ input.DispatchDragEventType, p point) {
		t.Helper()
		_, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: p.X, Y: p.Y, Data: data})
		require.NoError(t, err)
	}
	drag(input.DispatchDragEventTypeDragEnter, to)
	// GrapesJS's sorter places the drop on a later frame: keep hovering,
	// as a hand does, until it shows where the block will land.
	placed := false
	for i := 0; !placed && i < 200; i++ {
		drag(input.DispatchDragEventTypeDragOver, point{to.X + float64(i%3), to.Y})
		placed, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const p = document.querySelector('.gjs-placeholder');
			return p !== null && getComputedStyle(p).display !== 'none';
		})()`))
		require.NoError(t, err)
	}
	require.True(t, placed, "the editor shows where the block will land")
	drag(input.DispatchDragEventTypeDrop, to)
	mouse(input.DispatchMouseEventTypeMouseReleased, to, 0)
}

// TestBrowserRawHTMLBlock drags the raw HTML block from the block panel
// onto the canvas with real mouse and drag events: its code box opens;
// markup with an event handler and a script is refused, saying what was
// refused; safe markup is kept verbatim in the design and the saved HTML.
// Then a design carrying unsafe raw HTML is refused on save by the server.
func TestBrowserRawHTMLBlock(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	login(t, ctx, m, "admin@example.com", "admin password 1")
	editor := `document.querySelector('[data-template-editor]')`
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/templates/new"),
		runJS(`document.querySelector('#name').value = 'Raw block'`),
		waitJS(editor+`.getAttribute('data-editor-ready') === '1'`),
		clickJS(`#mode-visual`),
		waitJS(editor+`.getAttribute('data-visual-ready') === '1'`),
	)
	dragBlock(t, ctx, "Raw HTML", 0.5, 0.8)
	steps(t, ctx, waitJS(editor+`.getAttribute('data-raw-state') === 'editing' && document.querySelector('#raw-html-code') !== null`))
	require.Equal(t, 1, evalInt(t, ctx, gjsEditor+`.getWrapper().find('[data-raw-html]').length`), "the dropped block is in the design")

	steps(t, ctx,
		runJS(`document.querySelector('#raw-html-code').value = '<p onclick="steal()">Hi</p><script>alert(1)</script>'`),
		clickJS(`#raw-html-save`),
		waitJS(editor+`.getAttribute('data-raw-state') === 'refused'`),
	)
	refused := text(t, ctx, "#raw-html-error")
	require.Contains(t, refused, "email cannot carry onclick on <p>, <script>")

	raw := `<table role="presentation" width="100%"><tr><td style="padding:12px;color:#c00000">Raw block <b>kept</b></td></tr></table>`
	steps(t, ctx,
		runJS(fmt.Sprintf(`document.querySelector('#raw-html-code').value = %q`, raw)),
		clickJS(`#raw-html-save`),
		waitJS(editor+`.getAttribute('data-raw-state') === 'saved'`),
		waitJS(`document.querySelector('#gjs iframe').contentDocument.body.textContent.includes('Raw block kept')`),
		waitJS(fmt.Sprintf(`document.querySelector('#html').value.includes(%q) && document.querySelector('#design').value.includes('peykar-raw-html')`, raw)),
		clickJS(`#template-save`),
		waitJS(`/\/admin\/templates\/\d+$/.test(location.pathname)`),
	)
	var design, html string
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT design::text, html FROM templates ORDER BY id DESC LIMIT 1`).Scan(&design, &html))
	require.Contains(t, html, raw, "the raw HTML is in the output verbatim")
	require.Contains(t, design, `"type": "peykar-raw-html"`)
	require.Contains(t, design, "Raw block <b>kept</b>")

	// It reopens as the same block, its markup intact.
	steps(t, ctx,
		chromedp.Reload(),
		waitJS(editor+`.getAttribute('data-visual-ready') === '1'`),
		waitJS(`document.querySelector('#gjs iframe').contentDocument.body.textContent.includes('Raw block kept')`),
	)
	require.Equal(t, 1, evalInt(t, ctx, gjsEditor+`.getWrapper().find('[data-raw-html]').length`))

	// The server holds the same line: a design whose raw block was given a
	// script behind the editor's back is refused on save, saying what.
	steps(t, ctx,
		runJS(`(() => { const e = `+gjsEditor+`; e.getWrapper().find('[data-raw-html]')[0].set('raw', '<p>x</p><script>alert(1)</script>'); e.trigger('peykar:raw'); })()`),
		waitJS(`document.querySelector('#design').value.includes('alert(1)')`),
		clickJS(`#template-save`),
		waitJS(`(document.querySelector('p.error') || {textContent: ''}).textContent.includes('email cannot carry <script>')`),
	)
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT design::text FROM templates ORDER BY id DESC LIMIT 1`).Scan(&design))
	require.NotContains(t, design, "alert(1)", "nothing unsafe was saved")
}

func evalInt(t *testing.T, ctx context.Context, expr string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
	require.NoError(t, err)
	return n
}
