package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/factory"
)

// TestBrowserHoldout sets a campaign's holdout in the editor (a share out
// of range is refused at its field), launches it, plants purchases (20%
// of the people sent it, 10% of the holdout) through the events API and
// reads the "Holdout and lift" section of the campaign page at phone
// width (400 px), in English and in Persian (right to left). With
// PEYKAR_SCREENSHOTS set it saves holdout-report.png and
// holdout-report-fa.png.
func TestBrowserHoldout(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	token := testToken(t, m, auth.RoleMarketer)
	const n = 1000
	for i := range n {
		factory.Contact(t, m.pool, factory.Email(fmt.Sprintf("p%04d@example.com", i)))
	}
	id := holdoutDraft(t, m, token)
	const fits = `document.documentElement.scrollWidth <= window.innerWidth`
	field := `document.querySelector('[name="settings.holdout"]')`

	login(t, ctx, m, "admin@example.com", "admin password 1")
	edit := fmt.Sprintf("%s/admin/campaigns/%d/edit", m.URL(), id)
	steps(t, ctx, chromedp.EmulateViewport(400, 800), chromedp.Navigate(edit), waitJS(field+` !== null`),
		runJS(field+`.value = '60'`), clickJS("#save"),
		waitJS(`document.getElementById('e-settings.holdout').innerText.includes('0 to 50')`))
	require.Equal(t, "true", attr(t, ctx, `[name="settings.holdout"]`, "ariaInvalid"), "the error is at the field")
	steps(t, ctx, waitJS(field+` !== null`), runJS(field+`.value = '20'`), clickJS("#save"),
		waitJS(`document.getElementById('def-holdout') !== null`))
	require.Equal(t, "20.0%", text(t, ctx, "#def-holdout"))

	code, body := do(t, m, http.MethodPost, fmt.Sprintf("/api/v1/campaigns/%d/launch", id), token, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Eventually(t, func() bool {
		var status string
		require.NoError(t, m.pool.QueryRow(t.Context(), `SELECT status FROM campaigns WHERE id = $1`, id).Scan(&status))
		return status == "finished"
	}, 2*time.Minute, 50*time.Millisecond, "the campaign never finished")
	plantPurchases(t, m, token, id)

	steps(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), id)), waitJS(`document.getElementById('holdout') !== null`), waitJS(fits))
	sec := text(t, ctx, "#holdout")
	require.Contains(t, sec, "Holdout and lift")
	require.Contains(t, text(t, ctx, "#holdout-verdict"), "raised conversions")
	require.Contains(t, text(t, ctx, "#holdout-lift"), "95% interval")
	holdoutScreenshot(t, ctx, "holdout-report.png")

	steps(t, ctx, clickJS(`[data-lang="fa"]`), waitJS(`document.documentElement.dir === 'rtl' && document.getElementById('holdout') !== null`), waitJS(fits))
	require.Contains(t, text(t, ctx, "#holdout"), "گروه کنترل")
	require.Regexp(t, regexp.MustCompile(`[۰-۹]`), text(t, ctx, "#holdout-held"), "Persian digits")
	holdoutScreenshot(t, ctx, "holdout-report-fa.png")
}

// holdoutDraft creates a segment of everyone, a template and a draft
// campaign to them, and returns the campaign's id.
func holdoutDraft(t *testing.T, m *Main, token string) int64 {
	t.Helper()
	code, body := do(t, m, http.MethodPost, "/api/v1/segments", token, map[string]any{"name": "everyone", "rule": "true"})
	require.Equal(t, http.StatusCreated, code, body)
	var seg struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &seg))
	code, body = do(t, m, http.MethodPost, "/api/v1/templates", token, map[string]any{
		"name": "sale", "subject": "Sale", "html": `<p>Sale</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`})
	require.Equal(t, http.StatusCreated, code, body)
	var tpl struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &tpl))
	code, body = do(t, m, http.MethodPost, "/api/v1/campaigns", token, map[string]any{
		"name": "Spring sale", "segment_id": seg.ID, "from": map[string]any{"name": "Shop", "email": "news@shop.example"},
		"steps": []map[string]any{{"key": "main", "template_id": tpl.ID}}})
	require.Equal(t, http.StatusCreated, code, body)
	var c struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	return c.ID
}

// plantPurchases posts a purchase for every fifth person sent the
// campaign and every tenth of its holdout.
func plantPurchases(t *testing.T, m *Main, token string, id int64) {
	t.Helper()
	rows, err := m.pool.Query(t.Context(), `SELECT c.email, h.contact_id IS NOT NULL FROM contacts c
		LEFT JOIN campaign_holdouts h ON h.campaign_id = $1 AND h.contact_id = c.id ORDER BY c.id`, id)
	require.NoError(t, err)
	var treated, held []string
	for rows.Next() {
		var e string
		var isHeld bool
		require.NoError(t, rows.Scan(&e, &isHeld))
		if isHeld {
			held = append(held, e)
		} else {
			treated = append(treated, e)
		}
	}
	require.NoError(t, rows.Err())
	post := func(e string) {
		code, body := do(t, m, http.MethodPost, "/api/v1/events", token, map[string]any{"email": e, "type": "purchase", "value": 20, "currency": "EUR"})
		require.Equal(t, http.StatusAccepted, code, body)
	}
	for i, e := range treated {
		if i%5 == 0 {
			post(e)
		}
	}
	for i, e := range held {
		if i%10 == 0 {
			post(e)
		}
	}
}

// holdoutScreenshot saves the holdout section's page, 400 px wide at its
// full height, to $PEYKAR_SCREENSHOTS/name when that is set (as
// entriesScreenshot does), scrolled so the section is in view.
func holdoutScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEYKAR_SCREENSHOTS")
	if dir == "" {
		return
	}
	steps(t, ctx, runJS(`document.getElementById('holdout').scrollIntoView()`))
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#holdout")))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}
