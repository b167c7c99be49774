package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserDuplicateCampaign: on a campaign's page, Duplicate asks
// first, then opens the new draft "… (copy)" with the same definition;
// the draft can be deleted, and the list's total follows.
func TestBrowserDuplicateCampaign(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	api, _, _, _, nowruz := lifecycleSetup(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	m := api.m
	login(t, ctx, m, "admin@example.com", "admin password 1")
	require.Equal(t, "2 in all", text(t, ctx, "#list-total"))

	steps(t, ctx,
		chromedp.Navigate(fmt.Sprintf("%s/admin/campaigns/%d", m.URL(), nowruz)),
		// Declining the confirmation changes nothing.
		runJS(`window.asked = ''; window.confirm = (q) => { window.asked = q; return false }`),
		clickJS("#action-duplicate"),
		waitJS(`window.asked.includes('draft copy')`),
		runJS(`window.confirm = () => true`),
		clickJS("#action-duplicate"),
		waitJS(`document.querySelector('h1') && document.querySelector('h1').textContent === 'Nowruz sale (copy)'`),
	)
	require.Equal(t, "draft", text(t, ctx, "#status"))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	var copyID int64
	_, err = fmt.Sscanf(loc, m.URL()+"/admin/campaigns/%d", &copyID)
	require.NoError(t, err)

	var orig, cp map[string]any
	api.call(http.StatusOK, "GET", fmt.Sprintf("/api/v1/campaigns/%d", nowruz), nil, &orig)
	api.call(http.StatusOK, "GET", fmt.Sprintf("/api/v1/campaigns/%d", copyID), nil, &cp)
	for _, k := range []string{"segment_id", "channel", "from", "steps", "rules", "goals", "settings", "throttle_per_second"} {
		require.Equal(t, orig[k], cp[k], k)
	}

	// The copy is a draft: it can be deleted (after a confirmation).
	steps(t, ctx,
		runJS(`window.confirm = () => true`),
		clickJS("#action-delete"),
		waitJS(`location.pathname === '/admin/campaigns'`),
		waitJS(`document.querySelector('#list-total') && document.querySelector('#list-total').textContent === '2 in all'`),
	)
	code, _ := do(t, m, "GET", fmt.Sprintf("/api/v1/campaigns/%d", copyID), api.token, nil)
	require.Equal(t, http.StatusNotFound, code)
}
