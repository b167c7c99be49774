package tracking

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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

// A row updated and committed by another transaction (an erasure) after
// a take's snapshot was taken but before the take locks it is folded once,
// erased: either by that take (follower_take as on main: the DELETE
// follows the row to its newest version) or, left in the inbox, by the
// next (a take by row address, ctid, as tried on wt-trk10: the newest
// version is one the take's snapshot cannot see); never lost, never taken
// twice. The window is opened deterministically: a copy of follower_take
// waits, after its snapshot and before locking any row, on an advisory
// lock the test holds (its wait observed in pg_locks) while the erasure
// commits. The service's follower is kept out by holding its lock, then
// every event is folded exactly once.
func TestFollowerTakeOfARowUpdatedMidTake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	camp := b.campaign(t, `[]`, `{}`, "https://shop.example/a")
	sent := time.Now().Add(-time.Hour)
	at := time.Now().Add(-time.Minute)

	// The test's own session holds the follower's lock (so the service's
	// follower folds nothing meanwhile) and the gate.
	const gate = int64(7_300_221)
	holder, err := b.pool.Acquire(ctx)
	require.NoError(t, err)
	defer holder.Release()
	_, err = holder.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('peykar/tracking/follower', 0)), pg_advisory_lock($1)`, gate)
	require.NoError(t, err)

	var ids []int64
	var erased int64 // the contact of the first (oldest) event
	for i := range 3 {
		d, c := b.delivery(t, camp, sent)
		if i == 0 {
			erased = c
		}
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO event_inbox (id, delivery_id, type, link_idx, url, machine, reason, user_agent, ip, occurred_at)
			VALUES (nextval('events_id_seq'), $1, 'click', 0, '', false, '', $2, '203.0.113.7', $3) RETURNING id`,
			d, browserUA, at.Add(time.Duration(i)*time.Second)).Scan(&id))
		ids = append(ids, id)
	}

	take := query("follower_take")
	const from = "FROM event_inbox ORDER BY id"
	require.Equal(t, 1, strings.Count(take, from), "follower_take's sub-select changed: the gate goes in front of it")
	gated := strings.Replace(take, from, fmt.Sprintf("FROM event_inbox WHERE (SELECT true FROM pg_advisory_xact_lock_shared(%d)) ORDER BY id", gate), 1)

	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var pid int32
	require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	// A fold's transaction (follower_lock): migration 053 lets only such a take delete.
	_, err = tx.Exec(ctx, `SELECT set_config('peykar.fold', 'watermark', true)`)
	require.NoError(t, err)
	type result struct {
		ids []int64
		err error
	}
	done := make(chan result, 1)
	// Whether each taken row came with its IP and user agent erased
	// (written by the take's goroutine, read after it is done).
	erasedRow := map[int64]bool{}
	takenID := func(r pgx.CollectableRow) (int64, error) {
		vals, err := r.Values() // id, …, user_agent (7), host(ip) (8), …
		if err != nil {
			return 0, err
		}
		id := vals[0].(int64)
		erasedRow[id] = vals[7] == "" && vals[8] == nil
		return id, nil
	}
	go func() {
		rows, err := tx.Query(ctx, gated, 100)
		if err != nil {
			done <- result{err: err}
			return
		}
		got, err := pgx.CollectRows(rows, takenID)
		done <- result{got, err}
	}()

	// The take has its snapshot and waits at the gate.
	for {
		var waiting bool
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND NOT granted)`,
			pid).Scan(&waiting))
		if waiting {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the take finished before the gate opened: %v, %v", r.ids, r.err)
		case <-ctx.Done():
			t.Fatal("the take never waited at the gate")
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The erasure commits after the take's snapshot.
	require.NoError(t, EraseContactEvents(ctx, b.pool, erased))
	_, err = holder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, gate)
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err)

	// What the first take left, the next take (here, the same
	// transaction's, which holds the first's row locks) gets: between them,
	// each row exactly once, the updated one erased.
	rows, err := tx.Query(ctx, take, 100)
	require.NoError(t, err)
	next, err := pgx.CollectRows(rows, takenID)
	require.NoError(t, err)
	t.Logf("first take %v, next take %v", r.ids, next)
	require.ElementsMatch(t, ids, append(append([]int64(nil), r.ids...), next...), "each row taken exactly once")
	require.Equal(t, map[int64]bool{ids[0]: true, ids[1]: false, ids[2]: false}, erasedRow, "the updated row taken at its newest version")
	require.NoError(t, tx.Rollback(ctx))

	// Back to the follower: each of the three folded exactly once.
	_, err = holder.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended('peykar/tracking/follower', 0))`)
	require.NoError(t, err)
	for b.count(t, `SELECT count(*) FROM event_inbox`) > 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the inbox was not folded")
		case <-time.After(5 * time.Millisecond):
		}
	}
	require.Equal(t, int64(3), b.count(t, `SELECT count(*) FROM events WHERE id = ANY($1)`, ids))
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM events WHERE id = $1 AND ip IS NULL AND user_agent = ''`, ids[0]))
	requireReportEqualsRawRows(t, b, camp)
}
