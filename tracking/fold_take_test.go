package tracking

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// takenEvent is what a fold must carry from event_inbox to events.
type takenEvent struct {
	ID        int64
	Type      string
	LinkIdx   *int32
	Machine   bool
	Reason    string
	UserAgent string
	IP        *string
	At        time.Time
}

// The follower reads the inbox's text columns from the rows' bytes and
// keeps repeated text once per fold (take): every event still reaches
// events with its own type, link, verdict, reason, user agent, address
// (IPv4, IPv6 or none) and time, when several events share a user agent
// or a reason and when they differ.
func TestFoldKeepsEachEventsFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a", "https://shop.example/b")
	sent := time.Now().Add(-time.Hour)
	at := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	rows := []struct {
		typ       string
		link      *int32
		url       string
		machine   bool
		reason    string
		ua        string
		ip        *string
		offsetSec int
	}{
		{TypeClick, ptr(int32(0)), "", false, "", browserUA, ptr("203.0.113.7"), 0},
		{TypeClick, ptr(int32(1)), "https://shop.example/p?u=1", true, "scanner: «Barracuda» ü", scannerUA, ptr("2001:db8::1"), 1},
		{TypeOpen, nil, "", false, "", browserUA, nil, 2},
		{TypeOpen, nil, "", true, "scanner: «Barracuda» ü", scannerUA, ptr("203.0.113.8"), 3},
		{TypeClick, ptr(int32(0)), "", false, "", "", ptr("198.51.100.1"), 4},
		{TypeOpen, nil, "", false, "", "Thunderbird/128.0", ptr("203.0.113.7"), 5},
	}
	var want []takenEvent
	for _, r := range rows {
		d, _ := b.delivery(t, camp, sent)
		row, err := b.pool.Query(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, url, machine, reason, user_agent, ip, occurred_at)
			VALUES (nextval('events_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8::inet, $9)
			RETURNING id, type, link_idx, machine, reason, user_agent, host(ip), occurred_at`,
			d, r.typ, r.link, r.url, r.machine, r.reason, r.ua, r.ip, at.Add(time.Duration(r.offsetSec)*time.Second))
		require.NoError(t, err)
		ev, err := pgx.CollectExactlyOneRow(row, pgx.RowToStructByPos[takenEvent])
		require.NoError(t, err)
		want = append(want, ev)
	}
	ids := make([]int64, len(want))
	for i, ev := range want {
		ids[i] = ev.ID
	}

	// An open answered after them: settling waits until every event up
	// to its id is folded, the ones above included.
	d, _ := b.delivery(t, camp, sent)
	res, _ := b.get(t, b.signer.OpenURL(b.url, d), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)

	got, err := b.pool.Query(ctx, `SELECT id, type, link_idx, machine, reason, user_agent, host(ip), occurred_at
		FROM events WHERE id = ANY($1) ORDER BY id`, ids)
	require.NoError(t, err)
	folded, err := pgx.CollectRows(got, pgx.RowToStructByPos[takenEvent])
	require.NoError(t, err)
	require.Len(t, folded, len(want), "every event folded once")
	for i := range want {
		require.True(t, want[i].At.Equal(folded[i].At), "event %d's time: %v, want %v", want[i].ID, folded[i].At, want[i].At)
		folded[i].At = want[i].At
	}
	require.Equal(t, want, folded)
	requireReportEqualsRawRows(t, b, camp)
}

func ptr[T any](v T) *T { return &v }
