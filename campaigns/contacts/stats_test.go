package contacts

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/migrations/pgtest"
)

// The counters in contact_stats reach every way a contact is read back
// (Get, GetMany, Update, Patch), an engagement batch adds to the sends
// already counted and moves the last open and click forward only, and
// erasure keeps the counts (the anonymous row stays for reports).
func TestStatsReadBackAndSurviveErasure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := b.mustCreate(t, ContactInput{Email: "x@example.com"})
	quiet := b.mustCreate(t, ContactInput{Email: "quiet@example.com"})
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{x, x}, time.Now()))

	early := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	late := early.Add(48 * time.Hour)
	engage := func(opens, clicks int32, lastOpen, lastClick *time.Time) {
		t.Helper()
		batch := &pgx.Batch{}
		QueueEngagement(batch, Engagement{IDs: []int64{x}, Opens: []int32{opens}, Clicks: []int32{clicks},
			LastOpen: []*time.Time{lastOpen}, LastClick: []*time.Time{lastClick}})
		require.NoError(t, b.pool.SendBatch(b.ctx, batch).Close())
	}
	engage(2, 1, &late, &early)
	engage(1, 0, &early, nil) // an older open arriving later does not move last_open_at back

	want := Stats{Sent: 2, Opens: 3, Clicks: 1}
	check := func(c Contact, how string) {
		t.Helper()
		require.Equal(t, want.Sent, c.Stats.Sent, how)
		require.Equal(t, want.Opens, c.Stats.Opens, how)
		require.Equal(t, want.Clicks, c.Stats.Clicks, how)
		require.NotNil(t, c.Stats.LastOpenAt, how)
		require.True(t, late.Equal(*c.Stats.LastOpenAt), "%s: last open %v", how, c.Stats.LastOpenAt)
		require.NotNil(t, c.Stats.LastClickAt, how)
		require.True(t, early.Equal(*c.Stats.LastClickAt), "%s: last click %v", how, c.Stats.LastClickAt)
	}
	c, err := Get(b.ctx, b.pool, x)
	require.NoError(t, err)
	check(c, "Get")
	many, err := GetMany(b.ctx, b.pool, []int64{x, quiet})
	require.NoError(t, err)
	require.Len(t, many, 2)
	for _, m := range many {
		if m.ID == x {
			check(m, "GetMany")
			continue
		}
		require.Equal(t, Stats{}, m.Stats, "a contact nothing was counted for reads as zero")
	}
	c, err = Update(b.ctx, b.pool, x, ContactInput{Email: "x@example.com", Name: "Ex"})
	require.NoError(t, err)
	check(c, "Update")
	name := "X"
	c, err = Patch(b.ctx, b.pool, x, ContactPatch{Name: &name})
	require.NoError(t, err)
	check(c, "Patch")

	require.NoError(t, Erase(b.ctx, b.pool, eventsNotHeld, x))
	c, err = Get(b.ctx, b.pool, x)
	require.NoError(t, err)
	require.Equal(t, "erased", c.Status)
	check(c, "Get after erasure")
}

// Deleting contacts (by hand: Peykar itself erases) deletes their
// counters, as the foreign key's cascade did before migration 048.
func TestDeletingContactsDeletesTheirStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	x := b.mustCreate(t, ContactInput{Email: "x@example.com"})
	y := b.mustCreate(t, ContactInput{Email: "y@example.com"})
	require.NoError(t, BumpSent(b.ctx, b.pool, []int64{x, y}, time.Now()))
	_, err := b.pool.Exec(b.ctx, `DELETE FROM contacts WHERE id = $1`, x)
	require.NoError(t, err)
	var left []int64
	rows, err := b.pool.Query(b.ctx, `SELECT contact_id FROM contact_stats ORDER BY contact_id`)
	require.NoError(t, err)
	left, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, []int64{y}, left)

	// TRUNCATE contacts (migration 048's trigger, beside 047's for
	// deliveries) empties contact_stats: a contact given a reused id must
	// not inherit another's counts. 047's own truncate trigger is off
	// here: its TRUNCATE deliveries CASCADE reaches transactions, which
	// the outer TRUNCATE … CASCADE is already truncating, and PostgreSQL
	// refuses that (55006) whatever 048 does.
	_, err = b.pool.Exec(b.ctx, `ALTER TABLE contacts DISABLE TRIGGER contacts_truncate_refs`)
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `TRUNCATE contacts CASCADE`)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contact_stats`).Scan(&n))
	require.Zero(t, n)
}

// Migration 048 moves every contact's counters from contacts to
// contact_stats (a row only for contacts with something counted) and
// going back restores them.
func TestMigration048MovesStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDSN(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	require.NoError(t, migrations.MigrateTo(ctx, pool, logger, 47))

	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	var counted, opened, quiet int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email, sent, opens, clicks, last_open_at, last_click_at)
		VALUES ('counted@example.com', 5, 3, 2, $1, $1) RETURNING id`, at).Scan(&counted))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email, last_open_at)
		VALUES ('opened@example.com', $1) RETURNING id`, at).Scan(&opened))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ('quiet@example.com') RETURNING id`).Scan(&quiet))
	const snapshot = `SELECT string_agg(concat_ws(',', id, sent, opens, clicks, last_open_at, last_click_at), ';' ORDER BY id) FROM `
	var before string
	require.NoError(t, pool.QueryRow(ctx, snapshot+`contacts`).Scan(&before))

	require.NoError(t, migrations.Migrate(ctx, pool, logger))
	var after string
	require.NoError(t, pool.QueryRow(ctx, snapshot+`(SELECT c.id, coalesce(s.sent, 0) AS sent, coalesce(s.opens, 0) AS opens,
		coalesce(s.clicks, 0) AS clicks, s.last_open_at, s.last_click_at
		FROM contacts c LEFT JOIN contact_stats s ON s.contact_id = c.id) x`).Scan(&after))
	require.Equal(t, before, after, "every contact's counters, read through the join")
	var rowsFor []int64
	rows, err := pool.Query(ctx, `SELECT contact_id FROM contact_stats ORDER BY contact_id`)
	require.NoError(t, err)
	rowsFor, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Equal(t, []int64{counted, opened}, rowsFor, "a row only where something was counted")
	c, err := Get(ctx, pool, counted)
	require.NoError(t, err)
	require.Equal(t, 5, c.Stats.Sent)

	require.NoError(t, migrations.MigrateTo(ctx, pool, logger, 47))
	var back string
	require.NoError(t, pool.QueryRow(ctx, snapshot+`contacts`).Scan(&back))
	require.Equal(t, before, back, "going back restores the columns")
}
