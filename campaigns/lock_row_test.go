package campaigns

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// TestLockRowLetsRowsForTheCampaignIn: while a transaction holds the
// finish decision's lock (LockRow), rows referencing the campaign can
// still be inserted (their foreign-key check locks the campaign row FOR
// KEY SHARE), so an outcome flush or a launch page does not wait for a
// send job's finish decision; a second decider and an update of the row
// (a launch page's cursor) still wait for it. lock_timeout makes a wait
// an error at once instead of a hang: a statement that needs no lock is
// never affected by it, however slow the machine.
func TestLockRowLetsRowsForTheCampaignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var campaignID, contactID int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('l', 'running') RETURNING id`).Scan(&campaignID))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO contacts (email) VALUES ('l@example.com') RETURNING id`).Scan(&contactID))

	decider, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = decider.Rollback(ctx) }()
	require.NoError(t, LockRow(ctx, decider, campaignID))

	other := func(sql string, args ...any) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1ms'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
	}
	require.NoError(t, other(`INSERT INTO deliveries (campaign_id, step, contact_id) VALUES ($1, 'main', $2)`, campaignID, contactID),
		"a delivery for the campaign is inserted while its finish is being decided")
	require.NoError(t, other(`INSERT INTO campaign_people (campaign_id, contact_id) VALUES ($1, $2)`, campaignID, contactID),
		"a people row for the campaign is inserted while its finish is being decided")

	requireLockWait(t, other(query("lock_row"), campaignID), "a second finish decision waits for the first")
	requireLockWait(t, other(`UPDATE campaigns SET launch_cursor = 1 WHERE id = $1`, campaignID), "a launch page's cursor waits for the decision")
}

// requireLockWait requires err to be a lock_timeout's error.
func requireLockWait(t *testing.T, err error, msg string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%s: got %v", msg, err)
	require.Equal(t, "55P03", pgErr.Code, "%s: got %v", msg, err) // lock_not_available
}
