package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserTimingSettings: the marketer sets a send time, a default
// zone, quiet hours and a cap across campaigns in the campaign editor; a
// wrong time is refused at its field with the rest of the form kept; the
// saved settings show on the campaign page, in English and in Persian
// (right to left), and the editor fits a 400 px screen. A contact's page
// shows the zone inferred from the phone number.
func TestBrowserTimingSettings(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	sara := factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Attr("phone", "+98 912 345 6789"))
	seg := factory.Segment(t, m.pool, factory.SegmentName("Everyone"), factory.Rule(`contact.email contains "@"`))
	tpl := factory.Template(t, m.pool, factory.TemplateName("Welcome"))
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		q, _ := json.Marshal(sel)
		v, _ := json.Marshal(value)
		return runJS(`(() => { const el = document.querySelector(` + string(q) + `); el.value = ` + string(v) +
			`; el.dispatchEvent(new Event('change', {bubbles: true})) })()`)
	}
	byName := func(name string) string { return `[name="` + name + `"]` }
	login(t, ctx, m, "admin@example.com", "admin password 1")

	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#f-timing")),
		set(`#f-name`, "Morning news"),
		set(byName("from.email"), "news@shop.example"),
		set(`#f-segment_id`, strconv.FormatInt(seg.ID, 10)),
		set(byName("steps[0].template_id"), strconv.FormatInt(tpl.ID, 10)),
		set(byName("settings.send_time.local_time"), "9am"),
		set(byName("settings.send_time.default_timezone"), "Asia/Tehran"),
		set(byName("settings.quiet_hours.from"), "22:00"),
		set(byName("settings.quiet_hours.to"), "08:00"),
		set(byName("settings.frequency_cap.max"), "2"),
		set(byName("settings.frequency_cap.per"), "24h"),
		set(byName("settings.frequency_cap.scope"), "all"),
		set(byName("settings.frequency_cap.action"), "skip"),
		clickJS(`#save`),
		waitJS(`document.getElementById('e-settings.send_time.local_time').textContent.includes('HH:MM')`),
	)
	// Refused at the field; nothing typed is lost.
	require.Equal(t, "true", attr(t, ctx, byName("settings.send_time.local_time"), "ariaInvalid"))
	for name, want := range map[string]string{"name": "Morning news", "settings.send_time.default_timezone": "Asia/Tehran",
		"settings.quiet_hours.from": "22:00", "settings.quiet_hours.to": "08:00", "settings.frequency_cap.scope": "all",
		"settings.frequency_cap.action": "skip", "settings.send_time.local_time": "9am"} {
		require.Equal(t, want, attr(t, ctx, byName(name), "value"), name)
	}
	// At 400 px the editor fits the screen.
	steps(t, ctx, chromedp.EmulateViewport(400, 900),
		waitJS(`document.documentElement.scrollWidth <= 400`),
		chromedp.EmulateViewport(1280, 900))

	steps(t, ctx,
		set(byName("settings.send_time.local_time"), "09:00"),
		clickJS(`#save`),
		waitJS(`/\/admin\/campaigns\/\d+$/.test(location.pathname)`),
		chromedp.WaitVisible(chromedp.CSS("#def-send-time")),
	)
	require.Equal(t, "09:00 local time (default zone Asia/Tehran)", text(t, ctx, "#def-send-time"))
	require.Equal(t, "22:00–08:00", text(t, ctx, "#def-quiet-hours"))
	require.Equal(t, "at most 2 per 24h, all campaigns, skip", text(t, ctx, "#def-frequency-cap"))
	builderScreenshot(t, ctx, "timing-settings.png")
	campaignURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)

	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/contacts/"+strconv.FormatInt(sara.ID, 10)),
		chromedp.WaitVisible(chromedp.CSS("#contact-timezone")))
	require.Equal(t, "Asia/Tehran · inferred from phone +98 912 345 6789", text(t, ctx, "#contact-timezone"))

	// In Persian, right to left.
	steps(t, ctx,
		runJS(`document.cookie = "peykar_lang=fa; path=/admin"`),
		chromedp.Navigate(campaignURL),
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.WaitVisible(chromedp.CSS("#def-frequency-cap")),
	)
	require.Contains(t, text(t, ctx, "#def-frequency-cap"), "همهٔ کمپین‌ها")
	require.Contains(t, text(t, ctx, "#def-send-time"), "به وقت محلی")
	steps(t, ctx, chromedp.Navigate(campaignURL+"/edit"), chromedp.WaitVisible(chromedp.CSS("#f-timing")))
	require.Contains(t, text(t, ctx, "#f-timing legend"), "زمان‌بندی")
	require.Equal(t, "09:00", attr(t, ctx, byName("settings.send_time.local_time"), "value"))
	// The Timing section in view, captured as the screen shows it (a
	// full-page capture of a right-to-left page comes out shifted).
	if dir := os.Getenv("PEYKAR_SCREENSHOTS"); dir != "" {
		steps(t, ctx, runJS(`document.getElementById('f-timing').scrollIntoView({block: 'center'})`))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "timing-settings-fa.png"), png, 0o644))
	}
}
