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
	// deliveries, which 050 made work inside the CASCADE) empties
	// contact_stats: a contact given a reused id must not inherit
	// another's counts.
	_, err = b.pool.Exec(b.ctx, `TRUNCATE contacts CASCADE`)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contact_stats`).Scan(&n))
	require.Zero(t, n)
}

// Migration 048 moves every contact's counters from contacts to
// contact_stats (a row only for contacts with something counted), an
// older process's bumps of the old columns reach contact_stats, and going
// back restores the columns.
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

	// A process of the previous version, running beside this one while a
	// deployment rolls, still bumps the contacts' columns with its own
	// statements (main's bump_sent and bump_engagement before 048,
	// verbatim): the bumps land in contact_stats, once, and the contacts
	// row's frozen columns stay as they were.
	const olderBumpSent = `WITH v AS (SELECT id, count(*) AS n FROM unnest($1::bigint[]) AS id GROUP BY id),
l AS (SELECT c.id, v.n FROM contacts c JOIN v ON v.id = c.id ORDER BY c.id FOR UPDATE OF c)
UPDATE contacts c SET sent = c.sent + l.n FROM l WHERE c.id = l.id`
	const olderEngagement = `UPDATE contacts c SET opens = c.opens + u.o, clicks = c.clicks + u.c,
    last_open_at = GREATEST(c.last_open_at, u.lo), last_click_at = GREATEST(c.last_click_at, u.lc)
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[]) AS u(id, o, c, lo, lc)
WHERE c.id = u.id`
	later, earlier := at.Add(time.Hour), at.Add(-time.Hour)
	_, err = pool.Exec(ctx, olderBumpSent, []int64{counted, counted, quiet})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, olderEngagement, []int64{counted, quiet, opened}, []int32{1, 2, 0}, []int32{0, 1, 4},
		[]*time.Time{&earlier, &later, nil}, []*time.Time{&later, nil, &earlier})
	require.NoError(t, err)
	var frozen string
	require.NoError(t, pool.QueryRow(ctx, snapshot+`contacts`).Scan(&frozen))
	require.Equal(t, before, frozen, "the older process's bumps leave the contacts' columns as they were")
	for _, w := range []struct {
		id                  int64
		sent, opens, clicks int
		lastOpen, lastClick *time.Time
	}{
		{counted, 7, 4, 2, &at, &later},  // an older open does not move last_open_at back
		{quiet, 1, 2, 1, &later, nil},    // no row before: created by the first bump
		{opened, 0, 0, 4, &at, &earlier}, // a click only
	} {
		c, err := Get(ctx, pool, w.id)
		require.NoError(t, err)
		require.Equal(t, [3]int{w.sent, w.opens, w.clicks}, [3]int{c.Stats.Sent, c.Stats.Opens, c.Stats.Clicks}, "contact %d", w.id)
		require.Equal(t, w.lastOpen == nil, c.Stats.LastOpenAt == nil, "contact %d last open", w.id)
		if w.lastOpen != nil {
			require.True(t, w.lastOpen.Equal(*c.Stats.LastOpenAt), "contact %d last open %v", w.id, c.Stats.LastOpenAt)
		}
		require.Equal(t, w.lastClick == nil, c.Stats.LastClickAt == nil, "contact %d last click", w.id)
		if w.lastClick != nil {
			require.True(t, w.lastClick.Equal(*c.Stats.LastClickAt), "contact %d last click %v", w.id, c.Stats.LastClickAt)
		}
	}

	require.NoError(t, migrations.MigrateTo(ctx, pool, logger, 47))
	var back string
	require.NoError(t, pool.QueryRow(ctx, snapshot+`contacts`).Scan(&back))
	var want string
	require.NoError(t, pool.QueryRow(ctx, `SELECT string_agg(x, ';' ORDER BY id) FROM (VALUES
		($1::bigint, concat_ws(',', $1::bigint, 7, 4, 2, $4::timestamptz, $5::timestamptz)),
		($2::bigint, concat_ws(',', $2::bigint, 0, 0, 4, $4, $6::timestamptz)),
		($3::bigint, concat_ws(',', $3::bigint, 1, 2, 1, $5))) v(id, x)`, counted, opened, quiet, at, later, earlier).Scan(&want))
	require.Equal(t, want, back, "going back restores the columns from contact_stats, the older bumps included")
}
