package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/migrations/pgtest"
)

// TestEraseClearsEvents erases a contact through its owner with tracking
// plugged in: the contact's events lose their IP address and user agent
// and stay for reports; another contact's events are untouched.
func TestEraseClearsEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := &bundle{pool: pgtest.NewPool(t)}
	camp := b.campaign(t, `[]`, `{}`, "https://a.example/")
	del, contact := b.delivery(t, camp, time.Now())
	otherDel, other := b.delivery(t, camp, time.Now())
	for _, d := range []struct{ del, contact int64 }{{del, contact}, {otherDel, other}} {
		_, err := b.pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, user_agent, ip)
			VALUES ($1, $2, 'main', $3, 'open', 'Mozilla/5.0 (Erin''s phone)', '203.0.113.9')`, d.del, camp, d.contact)
		require.NoError(t, err)
	}

	require.NoError(t, contacts.Erase(ctx, b.pool, EventEraser{}, contact))

	var ua string
	var ip *string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT user_agent, host(ip) FROM events WHERE contact_id = $1`, contact).Scan(&ua, &ip))
	require.Empty(t, ua)
	require.Nil(t, ip)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT user_agent, host(ip) FROM events WHERE contact_id = $1`, other).Scan(&ua, &ip))
	require.NotEmpty(t, ua, "another contact's events stay")
	require.NotNil(t, ip)
	require.Equal(t, int64(2), b.count(t, `SELECT count(*) FROM events WHERE campaign_id = $1`, camp), "events stay for reports")
}
