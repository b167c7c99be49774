package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/factory"
)

// contactsScreenshot saves the page as docs picture name when
// PEYKAR_SCREENSHOTS names a directory.
func contactsScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	// The page at its full height in a 1280 px wide viewport: a full-page
	// capture of a right-to-left page can start off its right edge.
	h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(t, err)
	steps(t, ctx, chromedp.EmulateViewport(1280, h))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	steps(t, ctx, chromedp.EmulateViewport(1280, 900))
}

// TestBrowserAddAndEditContact adds a contact with the form (tags and
// attribute rows), then edits it: a new name, one attribute changed, one
// removed, a tag removed and one added. The edit sends only what changed:
// an attribute another user set after the page was opened survives it,
// and a number attribute the form did not touch stays a number.
func TestBrowserAddAndEditContact(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	factory.Contact(t, m.pool, factory.Email("ali@example.com"))
	login(t, ctx, m, "admin@example.com", "admin password 1")

	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts"),
		clickJS(`#contact-add`),
		chromedp.WaitVisible(chromedp.CSS("#c-email")),
		// An address already held is refused with a link to its contact.
		chromedp.SendKeys(chromedp.CSS("#c-email"), "ali@example.com"),
		clickJS(`#contact-create`),
		waitJS(`document.querySelector('[data-field-error="email"] a') !== null`),
		runJS(`document.querySelector('#c-email').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#c-email"), "sara@example.com"),
		chromedp.SendKeys(chromedp.CSS("#c-name"), "سارا"),
		chromedp.SendKeys(chromedp.CSS("#c-tags"), "vip, news"),
		clickJS(`[data-attr-add]`),
		clickJS(`[data-attr-add]`),
		runJS(`(() => { const rows = document.querySelectorAll('[data-attr-row]');
			rows[0].querySelector('[name=attr-key]').value = 'city'; rows[0].querySelector('[name=attr-value]').value = 'Tehran';
			rows[1].querySelector('[name=attr-key]').value = 'plan'; rows[1].querySelector('[name=attr-value]').value = 'pro'; })()`),
		clickJS(`#contact-create`),
		waitJS(`/\/admin\/contacts\/\d+$/.test(location.pathname) && document.querySelector('h1').textContent === 'سارا'`),
	)
	var id int64
	require.NoError(t, m.pool.QueryRow(bg, `SELECT id FROM contacts WHERE email = 'sara@example.com'`).Scan(&id))
	c, err := contacts.Get(bg, m.pool, id)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"city": "Tehran", "plan": "pro"}, c.Attributes)
	require.Equal(t, []string{"vip", "news"}, c.Tags)

	// A number attribute, then the page as the marketer opens it.
	_, err = contacts.Patch(bg, m.pool, id, contacts.ContactPatch{Attributes: map[string]any{"score": 5}})
	require.NoError(t, err)
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts/"+strconv.FormatInt(id, 10)),
		clickJS(`#contact-edit-open`),
		chromedp.WaitVisible(chromedp.CSS("#c-name")),
		waitJS(`document.querySelectorAll('[data-attr-row]').length === 3`),
	)
	// Someone else sets an attribute while the form is open.
	_, err = contacts.Patch(bg, m.pool, id, contacts.ContactPatch{Attributes: map[string]any{"lang": "fa"}})
	require.NoError(t, err)
	steps(t, ctx,
		runJS(`document.querySelector('#c-name').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#c-name"), "Sara"),
		runJS(`(() => { for (const row of document.querySelectorAll('[data-attr-row]')) {
			const k = row.querySelector('[name=attr-key]').value;
			if (k === 'city') row.querySelector('[name=attr-value]').value = 'Shiraz';
			if (k === 'plan') row.querySelector('button').click();
		} })()`),
		clickJS(`[data-tag="news"]`),
		chromedp.SendKeys(chromedp.CSS("#c-tags-add"), "buyer"),
		clickJS(`#contact-save`),
		waitJS(`document.querySelector('h1').textContent === 'Sara'`),
	)
	c, err = contacts.Get(bg, m.pool, id)
	require.NoError(t, err)
	require.Equal(t, "Sara", c.Name)
	require.Equal(t, map[string]any{"city": "Shiraz", "score": float64(5), "lang": "fa"}, c.Attributes,
		"plan removed, city changed, score untouched (still a number), lang (set meanwhile) kept")
	require.Equal(t, []string{"vip", "buyer"}, c.Tags)
	require.Contains(t, text(t, ctx, "#attrs-h + table"), "Shiraz")

	// Suppress with the existing form, then allow sending again.
	steps(t, ctx,
		clickJS(`#contact-unsubscribe`),
		waitJS(`document.querySelector('#contact-unsuppress') !== null`),
		runJS(`window.confirm = () => true`),
		clickJS(`#contact-unsuppress`),
		waitJS(`document.querySelector('#contact-unsuppress') === null && document.querySelector('#contact-unsubscribe') !== null`),
	)
	c, err = contacts.Get(bg, m.pool, id)
	require.NoError(t, err)
	require.Equal(t, contacts.StatusActive, c.Status)
}

// TestBrowserBulkTagOnFilter searches the contact list, sees its total,
// tags every contact the search finds from the bulk bar (the confirmation
// names the count and the tag), follows the job to its end, and finds the
// tag on exactly those contacts. Then the same list in Persian.
func TestBrowserBulkTagOnFilter(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	bg := context.Background()
	for _, c := range [][2]string{{"sara@example.com", "سارا"}, {"ali@example.com", "Ali"}, {"nima@example.com", "Nima"},
		{"reza@other.test", "Reza"}, {"mina@other.test", "مینا"}} {
		factory.Contact(t, m.pool, factory.Email(c[0]), factory.Name(c[1]), factory.Attr("city", "Tehran"))
	}
	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts"),
		waitJS(`document.querySelector('#contacts-total').textContent.trim() === '5 contacts'`),
		chromedp.SendKeys(chromedp.CSS("#q"), "example.com"),
		chromedp.Submit(chromedp.CSS("#q")),
		waitJS(`document.querySelector('#contacts-total') && document.querySelector('#contacts-total').textContent.trim() === '3 contacts'`),
		waitJS(`document.querySelector('[data-scope-all]').textContent === 'All 3 contacts of this list'`),
		chromedp.SetValue(chromedp.CSS("#bulk-action"), "tag"),
		chromedp.SendKeys(chromedp.CSS("#bulk-tag"), "vip"),
		clickJS(`#bulk-apply`),
		waitJS(`!document.querySelector('#bulk-confirm').hidden`),
	)
	require.Equal(t, "Tag 3 contacts with 'vip'?", text(t, ctx, "#bulk-confirm-text"))
	contactsScreenshot(t, ctx, "contacts-en.png")
	steps(t, ctx,
		clickJS(`#bulk-confirm-yes`),
		waitJS(`/\/admin\/bulk\/\d+$/.test(location.pathname)`),
		waitJS(`document.querySelector('#bulk-state') && document.querySelector('#bulk-state').dataset.state === 'finished'`),
	)
	require.Equal(t, "3", text(t, ctx, "#bulk-done"))
	require.Equal(t, "3", text(t, ctx, "#bulk-total"))
	rows, err := m.pool.Query(bg, `SELECT email FROM contacts WHERE 'vip' = ANY(tags) ORDER BY id`)
	require.NoError(t, err)
	tagged, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"sara@example.com", "ali@example.com", "nima@example.com"}, tagged)

	// Selected rows: one of the other list, untagged of nothing, tagged "x".
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts?q=other.test"),
		waitJS(`document.querySelectorAll('#contacts-table input[name=ids]').length === 2`),
		clickJS(`#contacts-table input[name=ids]`),
		waitJS(`document.querySelector('input[name=scope][value=ids]').checked`),
		chromedp.SendKeys(chromedp.CSS("#bulk-tag"), "x"),
		clickJS(`#bulk-apply`),
		waitJS(`!document.querySelector('#bulk-confirm').hidden`),
	)
	require.Equal(t, "Tag 1 contact with 'x'?", text(t, ctx, "#bulk-confirm-text"))
	steps(t, ctx,
		clickJS(`#bulk-confirm-yes`),
		waitJS(`document.querySelector('#bulk-state') && document.querySelector('#bulk-state').dataset.state === 'finished'`),
	)
	var xs int
	require.NoError(t, m.pool.QueryRow(bg, `SELECT count(*) FROM contacts WHERE 'x' = ANY(tags) AND email = 'reza@other.test'`).Scan(&xs))
	require.Equal(t, 1, xs)

	// An export of the list, downloaded from the progress page's link with
	// a byte order mark for spreadsheet tools.
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/contacts?q=other.test"),
		chromedp.SetValue(chromedp.CSS("#bulk-action"), "export"),
		runJS(`document.querySelector('#bulk-action').dispatchEvent(new Event('change'))`),
		waitJS(`document.querySelector('#bulk-tag').hidden`),
		clickJS(`#bulk-apply`),
		waitJS(`document.querySelector('#bulk-confirm-text').textContent === 'Export 2 contacts as CSV?'`),
		clickJS(`#bulk-confirm-yes`),
		waitJS(`document.querySelector('#bulk-download') !== null`),
		// ignoreBOM keeps the byte order mark in the text (a decoder drops it by default).
		runJS(`fetch(document.querySelector('#bulk-download').href).then(r => r.arrayBuffer())
			.then(b => { window.exported = new TextDecoder('utf-8', {ignoreBOM: true}).decode(b) })`),
		waitJS(`typeof window.exported === 'string'`),
	)
	exported, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.exported`))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(exported, "\uFEFFid,email,name,status,tags,attributes,created_at\n"), exported)
	require.Contains(t, exported, ",reza@other.test,Reza,active,x,")
	require.Contains(t, exported, ",mina@other.test,مینا,active,,")

	// Persian: the total in Persian digits, the page right to left.
	steps(t, ctx,
		clickJS(`a[data-lang="fa"]`),
		waitJS(`document.documentElement.dir === 'rtl'`),
		chromedp.Navigate(m.URL()+"/admin/contacts"),
		waitJS(`document.documentElement.lang === 'fa' && document.querySelector('#contacts-total').textContent.trim() === '۵ مخاطب'`),
		chromedp.SetValue(chromedp.CSS("#bulk-action"), "tag"),
		chromedp.SendKeys(chromedp.CSS("#bulk-tag"), "ویژه"),
		clickJS(`#bulk-apply`),
		waitJS(`!document.querySelector('#bulk-confirm').hidden`),
	)
	require.Equal(t, "به ۵ مخاطب برچسب «ویژه» افزوده شود؟", text(t, ctx, "#bulk-confirm-text"))
	contactsScreenshot(t, ctx, "contacts-fa.png")
}
