package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/internal/auth"
)

// TestContactPage shows a contact's messages, activity and transactions,
// records an opt-out given another way, and erases the person only once
// the box is ticked; a manager sees none of the buttons and is refused.
func TestContactPage(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	ctx := context.Background()
	marketer := testToken(t, m, auth.RoleMarketer)
	manager := testToken(t, m, auth.RoleManager)
	// The page says "Not scored yet" until a recompute runs after the
	// contact exists: let the start-up recompute finish first (under load it
	// ran after the inserts below and scored the contact).
	waitStartupRecompute(t, m)
	var contact, campaign, delivery int64
	// Raw on purpose: a finished campaign with a sent delivery and a click
	// event, without running a send (no owner function plants these yet).
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO contacts (email, name) VALUES ('leila@example.com', 'لیلا') RETURNING id`).Scan(&contact))
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('Yalda offer', 'finished') RETURNING id`).Scan(&campaign))
	_, err := m.pool.Exec(ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/yalda', '')`, campaign)
	require.NoError(t, err)
	require.NoError(t, m.pool.QueryRow(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
		VALUES ($1, 'main', $2, 'sent', now()) RETURNING id`, campaign, contact).Scan(&delivery))
	_, err = m.pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, user_agent, ip)
		VALUES ($1, $2, 'main', $3, 'click', 0, 'Mozilla/5.0', '203.0.113.7')`, delivery, campaign, contact)
	require.NoError(t, err)
	code, body := do(t, m, http.MethodPost, "/api/v1/events", marketer, map[string]any{
		"contact_id": contact, "type": "purchase", "value": 120, "currency": "EUR", "campaign_id": campaign})
	require.Equal(t, http.StatusAccepted, code, body)

	page := "/admin/contacts/" + strconv.FormatInt(contact, 10)
	code, body = do(t, m, http.MethodGet, page, marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Yalda offer")
	require.Contains(t, body, "https://shop.example/yalda", "the clicked link")
	require.Contains(t, body, "120.00 EUR")
	require.Contains(t, body, `id="contact-erase"`)
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")
	require.Contains(t, body, "Not scored yet")

	_, err = analytics.Recompute(ctx, m.pool, analytics.Config{}, m.Logger)
	require.NoError(t, err)
	code, body = do(t, m, http.MethodGet, page, marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "Not scored yet")
	require.Regexp(t, `R\d F\d M\d`, body, "the RFM scores")
	require.NotRegexp(t, `!\w+\.\w+`, body, "a message id is missing from the catalogue")

	code, body = do(t, m, http.MethodGet, page, manager, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Yalda offer")
	require.NotContains(t, body, `id="contact-erase"`)
	require.NotContains(t, body, `id="contact-unsubscribe"`)

	post := func(token, path string, form url.Values) (int, string) { return postForm(t, m, token, path, form) }
	code, _ = post(manager, page+"/erase", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusForbidden, code)
	code, _ = post(manager, page+"/unsubscribe", nil)
	require.Equal(t, http.StatusForbidden, code)

	code, _ = post(marketer, page+"/unsubscribe", nil)
	require.Equal(t, http.StatusSeeOther, code)
	var status string
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM contacts WHERE id = $1`, contact).Scan(&status))
	require.Equal(t, "unsubscribed", status)

	code, body = post(marketer, page+"/erase", nil)
	require.Equal(t, http.StatusUnprocessableEntity, code, "not without the confirmation")
	require.Contains(t, body, "tick the box")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM contacts WHERE id = $1`, contact).Scan(&status))
	require.Equal(t, "unsubscribed", status)

	code, _ = post(marketer, page+"/erase", url.Values{"confirm": {"yes"}})
	require.Equal(t, http.StatusSeeOther, code)
	code, body = do(t, m, http.MethodGet, page, marketer, nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "leila@example.com")
	require.NotContains(t, body, "لیلا")
	require.NotContains(t, body, `id="contact-erase"`, "nothing left to erase")
	require.Contains(t, body, "Yalda offer", "anonymous history stays")
	var ip *string
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT host(ip) FROM events WHERE delivery_id = $1`, delivery).Scan(&ip))
	require.Nil(t, ip)
}
