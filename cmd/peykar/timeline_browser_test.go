package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestBrowserContactTimeline opens a contact's page: its timeline merges
// the contact's events (a purchase with its amount, a cart with its
// attributes summarised), a click with its link and the message sent,
// newest first; the "older" link pages back to the first event, the
// "Events" filter keeps events only, the timeline fits a 400 px screen,
// and in Persian it is right to left with Jalali dates in Persian digits.
// With PEYKAR_SCREENSHOTS set it saves contact-timeline.png and
// contact-timeline-fa.png.
func TestBrowserContactTimeline(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	var contact, campaign, delivery int64
	require.NoError(t, m.pool.QueryRow(bg, `INSERT INTO contacts (email, name) VALUES ('nasrin@example.com', 'Nasrin') RETURNING id`).Scan(&contact))
	// Raw on purpose, as in TestContactPage: a sent delivery and its click
	// without running a send.
	require.NoError(t, m.pool.QueryRow(bg, `INSERT INTO campaigns (name, status) VALUES ('Nowruz sale', 'finished') RETURNING id`).Scan(&campaign))
	_, err := m.pool.Exec(bg, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/nowruz', '')`, campaign)
	require.NoError(t, err)
	// 2026-03-21 is 1405/01/01 in the Jalali calendar.
	base := time.Date(2026, 3, 21, 9, 0, 0, 0, time.UTC)
	require.NoError(t, m.pool.QueryRow(bg, `INSERT INTO deliveries (campaign_id, step, contact_id, status, queued_at, sent_at)
		VALUES ($1, 'main', $2, 'sent', $3, $3) RETURNING id`, campaign, contact, base).Scan(&delivery))
	_, err = m.pool.Exec(bg, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, occurred_at)
		VALUES ($1, $2, 'main', $3, 'click', 0, $4)`, delivery, campaign, contact, base.Add(time.Hour))
	require.NoError(t, err)
	record := func(in contacts.EventInput) {
		t.Helper()
		in.ContactID = contact
		_, _, err := contacts.RecordEvent(bg, m.pool, nil, in)
		require.NoError(t, err)
	}
	record(contacts.EventInput{Type: "signup", OccurredAt: ptrTime(base.Add(-48 * time.Hour))})
	// 50 page views fill the first page, so the signup is on the second.
	for i := range 50 {
		record(contacts.EventInput{Type: "page_viewed", Attributes: map[string]any{"path": fmt.Sprintf("/p/%d", i)},
			OccurredAt: ptrTime(base.Add(-24*time.Hour + time.Duration(i)*time.Minute))})
	}
	record(contacts.EventInput{Type: "cart_abandoned", Attributes: map[string]any{"cart": "C-7", "items": 3},
		OccurredAt: ptrTime(base.Add(2 * time.Hour))})
	record(contacts.EventInput{Type: "purchase", Value: 120, Currency: "EUR", CampaignID: &campaign,
		OccurredAt: ptrTime(base.Add(3 * time.Hour))})

	login(t, ctx, m, "admin@example.com", "admin password 1")
	page := fmt.Sprintf("%s/admin/contacts/%d", m.URL(), contact)
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
	kinds, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('ol.timeline > li')].slice(0, 5).map(li => li.dataset.kind + ' ' + li.querySelector('.tl-body').textContent.replace(/\s+/g, ' ').trim())`))
	require.NoError(t, err)
	require.Len(t, kinds, 5)
	require.True(t, strings.HasPrefix(kinds[0], "event event purchase · 120.00 EUR · Nowruz sale"), kinds[0])
	require.Contains(t, kinds[1], "cart_abandoned")
	require.Contains(t, kinds[1], "cart: C-7 · items: 3", "attributes summarised")
	require.True(t, strings.HasPrefix(kinds[2], "tracking click Nowruz sale · main"), kinds[2])
	require.Contains(t, kinds[2], "https://shop.example/nowruz")
	require.True(t, strings.HasPrefix(kinds[3], "delivery sent Nowruz sale"), kinds[3])
	require.Contains(t, kinds[4], "page_viewed")
	require.Equal(t, "2026-03-21 12:00", text(t, ctx, "ol.timeline > li:first-child time"), "UTC, the admin's zone")
	contactsScreenshot(t, ctx, "contact-timeline.png")

	// At 400 px the timeline fits: nothing sticks out sideways.
	steps(t, ctx, chromedp.EmulateViewport(400, 900), chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('ol.timeline, ol.timeline li, .timeline-filter')]
		.filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 || el.scrollWidth > el.clientWidth + 1)
		.map(el => el.className + ' ' + Math.round(el.getBoundingClientRect().right))`))
	require.NoError(t, err)
	require.Empty(t, wide, "timeline parts wider than 400 px")
	steps(t, ctx, chromedp.EmulateViewport(1280, 900))

	// The older page ends with the signup and links back to the newest.
	steps(t, ctx, clickJS(`#timeline-older`),
		waitJS(`new URLSearchParams(location.search).get('after') !== null && document.querySelector('#timeline-newest') !== null`))
	last, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('ol.timeline > li:last-child .tl-type').textContent`))
	require.NoError(t, err)
	require.Equal(t, "signup", last)
	steps(t, ctx, waitJS(`document.querySelector('#timeline-older') === null`))

	// The events filter shows contact events only.
	steps(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#timeline-kind-event")),
		clickJS(`#timeline-kind-event`),
		waitJS(`location.search === '?kind=event' && document.querySelector('#timeline-kind-event').getAttribute('aria-current') === 'page'`))
	others, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('ol.timeline > li:not([data-kind="event"])').length`))
	require.NoError(t, err)
	require.Zero(t, others)
	steps(t, ctx, clickJS(`#timeline-kind-delivery`), waitJS(`location.search === '?kind=delivery'`))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('ol.timeline > li[data-kind="delivery"]').length`))
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Persian: right to left, Jalali dates in Persian digits, words translated.
	steps(t, ctx, chromedp.Navigate(page), clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === "rtl" && document.querySelector('ol.timeline') !== null`))
	require.Equal(t, "۱۴۰۵/۰۱/۰۱ ۱۲:۰۰", text(t, ctx, "ol.timeline > li:first-child time"))
	require.Equal(t, "خط زمانی", text(t, ctx, "#timeline-h"))
	amount := text(t, ctx, "ol.timeline > li:first-child .num")
	require.Contains(t, amount, "۱۲۰٫۰۰", "Persian digits in the amount")
	// Attribute values are the contact's data, shown as they were posted.
	js := strings.Replace(latinDigitsJS, "document.body", "document.querySelector('ol.timeline')", 1)
	js = strings.Replace(js, "[hidden]'", "[hidden], .tl-attrs'", 1)
	latin, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	require.NoError(t, err)
	require.Empty(t, latin, "Latin digits in the Persian timeline")
	contactsScreenshot(t, ctx, "contact-timeline-fa.png")
}

func ptrTime(v time.Time) *time.Time { return &v }

// TestBrowserImportEvents imports a history file from the import page's
// "events" choice: the status page counts stored and rejected lines (the
// bad one by its number), and the contact's timeline shows the imported
// purchase at its own date.
func TestBrowserImportEvents(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	var contact int64
	require.NoError(t, m.pool.QueryRow(context.Background(), `INSERT INTO contacts (email) VALUES ('mina@example.com') RETURNING id`).Scan(&contact))
	csv := filepath.Join(t.TempDir(), "events.csv")
	require.NoError(t, os.WriteFile(csv, []byte("email,type,occurred_at,value,currency,attr.order\n"+
		"mina@example.com,purchase,2025-12-01T10:00:00Z,75,EUR,A-9\n"+
		"stranger@example.com,purchase,2025-12-02T10:00:00Z,5,EUR,A-10\n"), 0o644))
	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts/import"),
		waitJS(`document.querySelector('[data-import-for="events"]').hidden`),
		clickJS(`#kind-events`),
		waitJS(`!document.querySelector('[data-import-for="events"]').hidden && document.querySelector('[data-import-for="contacts"]').hidden`),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{csv}),
		clickJS(`form[data-import] button[type=submit]`),
		waitJS(`/\/admin\/imports\/\d+$/.test(location.pathname)`),
		waitJS(`document.querySelector('#import-state') && document.querySelector('#import-state').dataset.state === 'finished'`),
	)
	counts := text(t, ctx, "#event-import-counts")
	require.Contains(t, counts, "Events stored")
	rejected := text(t, ctx, "#import-status table")
	require.Contains(t, rejected, "3")
	require.Contains(t, rejected, "no contact with email stranger@example.com")

	steps(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/contacts/%d", m.URL(), contact)), chromedp.WaitVisible(chromedp.CSS("ol.timeline")))
	first := text(t, ctx, "ol.timeline > li:first-child")
	require.Contains(t, first, "2025-12-01 10:00")
	require.Contains(t, first, "purchase")
	require.Contains(t, first, "75.00 EUR")
	require.Contains(t, first, "order: A-9")
}
