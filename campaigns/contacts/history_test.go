package contacts

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// RecentHistory shows a contact's deliveries, events (with the clicked
// URL) and transactions, newest first, and nobody else's.
func TestRecentHistory(t *testing.T) {
	t.Parallel()
	a := newAPI(t, nil)
	id := a.mustCreate(t, ContactInput{Email: "hist@example.com", Name: "Hasti"})
	other := a.mustCreate(t, ContactInput{Email: "other@example.com"})
	var campaign int64
	require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO campaigns (name) VALUES ('Nowruz sale') RETURNING id`).Scan(&campaign))
	_, err := a.pool.Exec(a.ctx, `INSERT INTO campaign_links (campaign_id, step, idx, url, name) VALUES ($1, 'main', 0, 'https://shop.example/pricing', 'Pricing')`, campaign)
	require.NoError(t, err)
	delivery := func(contact int64, step string) (d int64) {
		require.NoError(t, a.pool.QueryRow(a.ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, sent_at)
			VALUES ($1, $2, $3, 'sent', now() - interval '1 hour') RETURNING id`, campaign, step, contact).Scan(&d))
		return d
	}
	first, second, theirs := delivery(id, "main"), delivery(id, "reminder"), delivery(other, "main")
	_, err = a.pool.Exec(a.ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, machine, reason, occurred_at) VALUES
		($1, $4, 'main', $5, 'open', NULL, false, '', now() - interval '50 minutes'),
		($1, $4, 'main', $5, 'click', 0, false, '', now() - interval '40 minutes'),
		($2, $4, 'reminder', $5, 'open', NULL, true, 'image proxy', now() - interval '10 minutes'),
		($3, $4, 'main', $6, 'click', 0, false, '', now())`, first, second, theirs, campaign, id, other)
	require.NoError(t, err)
	_, _, err = RecordEvent(a.ctx, a.pool, nil, EventInput{ContactID: id, Type: "purchase", Value: 49.5, Currency: "EUR", CampaignID: &campaign})
	require.NoError(t, err)

	h, err := RecentHistory(a.ctx, a.pool, id, 50)
	require.NoError(t, err)
	require.Len(t, h.Deliveries, 2)
	require.Equal(t, second, h.Deliveries[0].ID, "newest first")
	require.Equal(t, "Nowruz sale", h.Deliveries[0].CampaignName)
	require.Len(t, h.Events, 3, "only this contact's events")
	require.Equal(t, "open", h.Events[0].Type)
	require.True(t, h.Events[0].Machine)
	require.Equal(t, "image proxy", h.Events[0].Reason)
	require.Equal(t, "click", h.Events[1].Type)
	require.Equal(t, "https://shop.example/pricing", h.Events[1].URL)
	require.Len(t, h.Transactions, 1)
	require.Equal(t, "purchase", h.Transactions[0].Type)
	require.InDelta(t, 49.5, h.Transactions[0].Value, 1e-9)
	require.Equal(t, "EUR", h.Transactions[0].Currency)
	require.Equal(t, "Nowruz sale", h.Transactions[0].CampaignName)

	h, err = RecentHistory(a.ctx, a.pool, id, 1)
	require.NoError(t, err)
	require.Len(t, h.Deliveries, 1)
	require.Len(t, h.Events, 1)

	h, err = RecentHistory(a.ctx, a.pool, 987654, 50)
	require.NoError(t, err)
	require.Empty(t, h.Deliveries)
	require.Empty(t, h.Events)
	require.Empty(t, h.Transactions)
}
