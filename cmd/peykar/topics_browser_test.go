package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserTopicsAndConsent drives the subscriptions UI: create topics,
// subscribe a contact from its profile (a consent record with the admin as
// the source), see the counts, the consent history, the campaign editor's
// topic picker with its audience count and the contact list's topic
// filter, in English and Persian at phone width.
func TestBrowserTopicsAndConsent(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	sara := factory.Contact(t, m.pool, factory.Email("sara@example.com"), factory.Name("سارا"))
	factory.Contact(t, m.pool, factory.Email("ali@example.com"), factory.Name("Ali"))
	login(t, ctx, m, "admin@example.com", "admin password 1")

	// Two topics through the form; a repeated name is refused next to it.
	for _, tp := range []struct {
		name, desc string
		public     bool
	}{{"News", "The weekly letter", true}, {"Offers", "Discounts", false}, {"news", "", false}} {
		acts := []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(m.URL() + "/admin/topics"),
			chromedp.WaitVisible(chromedp.CSS("#topic-name")),
			chromedp.SendKeys(chromedp.CSS("#topic-name"), tp.name),
			chromedp.SendKeys(chromedp.CSS("#topic-description"), tp.desc),
		}
		if tp.public {
			acts = append(acts, clickJS("#topic-public"))
		}
		acts = append(acts, clickJS("#topic-save"))
		if tp.name == "news" {
			acts = append(acts, waitJS(`document.querySelector('#topic-err') !== null`))
		} else {
			acts = append(acts, waitJS(fmt.Sprintf(`[...document.querySelectorAll('#topics-table td strong')].some(s => s.textContent === %q)`, tp.name)))
		}
		steps(t, ctx, acts...)
	}
	require.Contains(t, text(t, ctx, "#topic-err"), "already exists")
	list, err := topics.List(bg, m.pool, false, false)
	require.NoError(t, err)
	require.Len(t, list, 2)
	news, offers := list[0], list[1]
	require.True(t, news.Public)
	require.False(t, offers.Public)

	// Subscribe Sara to News and to Offers, then unsubscribe her from Offers.
	profile := fmt.Sprintf("%s/admin/contacts/%d", m.URL(), sara.ID)
	for i, sel := range []string{
		fmt.Sprintf(`[data-topic-subscribe="%d"]`, news.ID),
		fmt.Sprintf(`[data-topic-subscribe="%d"]`, offers.ID),
		fmt.Sprintf(`[data-topic-unsubscribe="%d"]`, offers.ID),
	} {
		// Each change adds a consent record: the page after the submit shows it.
		steps(t, ctx, chromedp.Navigate(profile), clickJS(sel),
			waitJS(fmt.Sprintf(`document.querySelectorAll('#consent-table tbody tr').length === %d`, i+1)))
	}
	require.Equal(t, "subscribed", text(t, ctx, fmt.Sprintf(`#contact-topics tr[data-topic="%d"] [data-status]`, news.ID)))
	require.Equal(t, "unsubscribed", text(t, ctx, fmt.Sprintf(`#contact-topics tr[data-topic="%d"] [data-status]`, offers.ID)))
	require.Contains(t, text(t, ctx, "#consent-table tbody tr"), "admin user")
	hist, err := topics.History(bg, m.pool, sara.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 3)
	for _, r := range hist {
		require.Equal(t, "admin", r.Source)
		require.NotNil(t, r.UserID, "the admin user who acted is recorded")
	}
	builderScreenshot(t, ctx, "contact-consent.png")

	// The topic list counts her.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/topics"),
		waitJS(fmt.Sprintf(`document.querySelector('tr[data-topic="%d"] [data-count="subscribed"]').textContent === '1'`, news.ID)),
		waitJS(fmt.Sprintf(`document.querySelector('tr[data-topic="%d"] [data-count="unsubscribed"]').textContent === '1'`, offers.ID)))
	builderScreenshot(t, ctx, "topics.png")

	// The campaign editor: ticking News counts its one subscriber.
	steps(t, ctx, chromedp.Navigate(m.URL()+"/admin/campaigns/new"),
		clickJS(fmt.Sprintf(`input[name="topic_ids"][value="%d"]`, news.ID)),
		waitJS(`document.querySelector('#audience').textContent.startsWith('1 contacts can be sent to now (1 match')`))

	// The contact list filtered by the topic shows Sara alone.
	steps(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/contacts?topic_id=%d", m.URL(), news.ID)),
		waitJS(`document.querySelector('#contacts-total') !== null`))
	require.Equal(t, "1 contact", text(t, ctx, "#contacts-total"))
	require.Contains(t, text(t, ctx, "main"), "sara@example.com")
	require.NotContains(t, text(t, ctx, "main"), "ali@example.com")

	// Phone width, English and Persian: nothing sticks out; Persian is RTL.
	steps(t, ctx, chromedp.EmulateViewport(400, 800))
	for _, lang := range []string{"en", "fa"} {
		steps(t, ctx, runJS(`document.cookie = 'peykar_lang=`+lang+`; path=/'`))
		for _, page := range []string{"/admin/topics", fmt.Sprintf("/admin/contacts/%d", sara.ID)} {
			steps(t, ctx, chromedp.Navigate(m.URL()+page), waitJS(`document.readyState === 'complete'`))
			out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowJS))
			require.NoError(t, err)
			require.Empty(t, out, "%s %s at 400 px", lang, page)
		}
	}
	dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
	require.NoError(t, err)
	require.Equal(t, "rtl", dir)
	require.Contains(t, text(t, ctx, "#contact-topics"), "تاریخچهٔ رضایت")
}
