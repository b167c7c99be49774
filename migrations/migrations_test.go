package migrations_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// emptyDB returns a pool on a database with no schema at all, by dropping
// what the template gave it.
func emptyDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(context.Background(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	return pool
}

func TestMigrateFromScratchAndIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyDB(t)
	require.ErrorContains(t, migrations.Check(ctx, pool), "schema version")

	require.NoError(t, migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)))
	require.NoError(t, migrations.Check(ctx, pool))
	require.NoError(t, migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)), "second run")
	require.NoError(t, migrations.Check(ctx, pool))

	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_migration").Scan(&n))
	require.Positive(t, n, "river's migrations applied")
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = migrations.Migrate(ctx, pool, slog.New(slog.DiscardHandler)) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, migrations.Check(ctx, pool))
}

func TestCheckNotCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, "UPDATE peykar_schema_version SET version = version - 1")
	require.NoError(t, err)
	require.ErrorIs(t, migrations.Check(ctx, pool), migrations.ErrNotCurrent)
}

// TestEventInboxDownKeepsWaitingEvents: migration 043's down step refuses
// while clicks and opens wait in event_inbox (they were answered as
// recorded), and goes through once the follower has emptied it.
func TestEventInboxDownKeepsWaitingEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO event_inbox (id, delivery_id, type, machine, occurred_at) VALUES (1, 1, 'click', false, now())`)
	require.NoError(t, err)
	err = migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 42)
	require.ErrorContains(t, err, "event_inbox holds 1 clicks and opens not yet folded")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM event_inbox`).Scan(&n))
	require.Equal(t, 1, n, "the waiting click is kept")

	_, err = pool.Exec(ctx, `DELETE FROM event_inbox`)
	require.NoError(t, err)
	require.NoError(t, migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 42))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'event_inbox'`).Scan(&n))
	require.Zero(t, n, "dropped once empty")
}

// TestSentContactsDownKeepsWaitingCounts: migration 052's down step refuses
// while a send_outcome_log row names sent contacts no contact_stats row
// counts yet, and goes through once the send fold has taken it; migration
// 049's trigger is back as it was (a fold that adds counts may delete).
func TestSentContactsDownKeepsWaitingCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO send_outcome_log (campaign_ids, contact_ids, recorded_at, sent_contact_ids)
		VALUES ('{1}', '{7}', now(), '{7}')`)
	require.NoError(t, err)
	err = migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 51)
	require.ErrorContains(t, err, "send_outcome_log holds 1 flushes whose contacts' sent counts are not yet folded")

	_, err = pool.Exec(ctx, `BEGIN; SELECT set_config('peykar.send_fold', 'stats', true); DELETE FROM send_outcome_log; COMMIT`)
	require.NoError(t, err, "this version's fold takes the row")
	require.NoError(t, migrations.MigrateTo(ctx, pool, slog.New(slog.DiscardHandler), 51))
	_, err = pool.Exec(ctx, `INSERT INTO send_outcome_log (campaign_ids, contact_ids, recorded_at, count_campaigns, count_steps, count_metrics, count_n)
		VALUES ('{1}', '{7}', now(), '{1}', '{main}', '{sent}', '{1}')`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `BEGIN; SELECT set_config('peykar.send_fold', 'stats', true); DELETE FROM send_outcome_log; COMMIT`)
	require.ErrorContains(t, err, "holds step counts", "at 051 only a fold that says 'counts' adds them")
	_, err = pool.Exec(ctx, `BEGIN; SELECT set_config('peykar.send_fold', 'counts', true); DELETE FROM send_outcome_log; COMMIT`)
	require.NoError(t, err)
}
