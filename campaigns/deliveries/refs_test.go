package deliveries_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/deliveries"
)

// Migration 047 holds deliveries' campaign and contact references, and
// campaign_people's campaign reference, by statement triggers instead of
// foreign keys. These tests hold them to what the foreign keys did.

// requireFKViolation requires err to be the foreign key's error, naming
// constraint and the missing id in its detail.
func requireFKViolation(t *testing.T, err error, constraint, detail string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want a foreign key violation, got %v", err)
	require.Equal(t, "23503", pgErr.Code, "%v", err)
	require.Equal(t, constraint, pgErr.ConstraintName)
	require.Equal(t, detail, pgErr.Detail)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// TestInsertNamingMissingParentFails: an insert naming a contact or a
// campaign that does not exist fails whole, with the foreign key's error,
// and so does an update pointing a row at one; a referenced parent's id
// cannot change.
func TestInsertNamingMissingParentFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 3)
	missing := contacts[2] + 1000

	_, err := deliveries.Create(ctx, pool, cid, "main", []int64{contacts[0], missing, contacts[1]})
	requireFKViolation(t, err, "deliveries_contact_id_fkey", `Key (contact_id)=(`+itoa(missing)+`) is not present in table "contacts".`)
	_, err = deliveries.Create(ctx, pool, cid+1000, "main", contacts)
	requireFKViolation(t, err, "deliveries_campaign_id_fkey", `Key (campaign_id)=(`+itoa(cid+1000)+`) is not present in table "campaigns".`)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries`), "a refused statement inserts nothing")

	_, err = pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id) VALUES ($1, $2), ($3, $2)`, cid, contacts[0], cid+1000)
	requireFKViolation(t, err, "campaign_people_campaign_id_fkey", `Key (campaign_id)=(`+itoa(cid+1000)+`) is not present in table "campaigns".`)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM campaign_people`))

	ids, err := deliveries.Create(ctx, pool, cid, "main", contacts)
	require.NoError(t, err)
	require.Len(t, ids, 3)
	_, err = pool.Exec(ctx, `UPDATE deliveries SET contact_id = $2 WHERE id = $1`, ids[0], missing)
	requireFKViolation(t, err, "deliveries_contact_id_fkey", `Key (contact_id)=(`+itoa(missing)+`) is not present in table "contacts".`)
	_, err = pool.Exec(ctx, `UPDATE deliveries SET campaign_id = $2 WHERE id = $1`, ids[0], cid+1000)
	requireFKViolation(t, err, "deliveries_campaign_id_fkey", `Key (campaign_id)=(`+itoa(cid+1000)+`) is not present in table "campaigns".`)
	_, err = pool.Exec(ctx, `UPDATE contacts SET id = $2 WHERE id = $1`, contacts[0], missing)
	requireFKViolation(t, err, "deliveries_contact_id_fkey", `Key (id)=(`+itoa(contacts[0])+`) is still referenced from table "deliveries".`)
	_, err = pool.Exec(ctx, `UPDATE campaigns SET id = $2 WHERE id = $1`, cid, cid+1000)
	requireFKViolation(t, err, "deliveries_campaign_id_fkey", `Key (id)=(`+itoa(cid)+`) is still referenced from table "deliveries".`)

	// Under REPEATABLE READ the insert locks each contact as the key did.
	rr := func(contactIDs []int64) error {
		return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			_, err := deliveries.Create(ctx, tx, cid, "rr", contactIDs)
			return err
		})
	}
	requireFKViolation(t, rr([]int64{contacts[0], missing}), "deliveries_contact_id_fkey",
		`Key (contact_id)=(`+itoa(missing)+`) is not present in table "contacts".`)
	require.NoError(t, rr(contacts))

	// Rows that the claims and outcomes update keep their references.
	_, err = pool.Exec(ctx, `UPDATE deliveries SET status = 'sending', contact_id = contact_id WHERE id = ANY($1)`, ids)
	require.NoError(t, err)
}

// TestDeletingParentsCascades: deleting a contact deletes its deliveries
// (and their events), deleting a campaign its deliveries and people,
// exactly as the foreign keys' ON DELETE CASCADE did; others' rows stay.
func TestDeletingParentsCascades(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 3)
	var other int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('o', 'running') RETURNING id`).Scan(&other))
	for _, c := range []int64{cid, other} {
		ids, err := deliveries.Create(ctx, pool, c, "main", contacts)
		require.NoError(t, err)
		require.Len(t, ids, 3)
		_, err = pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id) SELECT $1, unnest($2::bigint[])`, c, contacts)
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type)
		SELECT id, campaign_id, step, contact_id, 'open' FROM deliveries`)
	require.NoError(t, err)

	_, err = pool.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, contacts[0])
	require.NoError(t, err)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries WHERE contact_id = $1`, contacts[0]))
	require.Zero(t, count(t, pool, `SELECT count(*) FROM events WHERE contact_id = $1`, contacts[0]))
	require.Equal(t, 4, count(t, pool, `SELECT count(*) FROM deliveries`), "the other contacts' deliveries stay")

	_, err = pool.Exec(ctx, `DELETE FROM campaigns WHERE id = $1`, cid)
	require.NoError(t, err)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries WHERE campaign_id = $1`, cid))
	require.Zero(t, count(t, pool, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1`, cid))
	require.Equal(t, 2, count(t, pool, `SELECT count(*) FROM deliveries WHERE campaign_id = $1`, other))
	require.Equal(t, 3, count(t, pool, `SELECT count(*) FROM campaign_people WHERE campaign_id = $1`, other),
		"campaign_people has no contact reference: its rows stay with the contact's deletion, as before")

	// A cascade under REPEATABLE READ could miss rows committed after its
	// snapshot, so such a deletion is refused rather than left incomplete.
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, contacts[1])
		return err
	})
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "%v", err)
	require.Equal(t, "0A000", pgErr.Code, "%v", err)
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM deliveries WHERE contact_id = $1`, contacts[1]), "the refused deletion deleted nothing")
}

// waitLocked waits (polling with a deadline) until the backend pid waits on
// a heavyweight lock of kind event ("advisory", "transactionid", "tuple"),
// and fails if done, the waiter's result, arrives first.
func waitLocked(t *testing.T, pool *pgxpool.Pool, pid uint32, done <-chan error, events ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		var ev string
		err := pool.QueryRow(context.Background(), `SELECT coalesce(wait_event, '') FROM pg_stat_activity
			WHERE pid = $1 AND wait_event_type = 'Lock'`, int32(pid)).Scan(&ev)
		if err == nil {
			require.Contains(t, events, ev)
			return
		}
		require.ErrorIs(t, err, pgx.ErrNoRows)
		require.True(t, time.Now().Before(deadline), "backend %d never waited on a lock", pid)
		select {
		case err := <-done:
			t.Fatalf("the second transaction did not wait for the first: %v", err)
		case <-tick.C:
		}
	}
}

// concurrent begins two transactions on their own connections: first runs
// firstSQL and stays open; second runs in a goroutine and must wait on
// first's lock (of a kind in events) until first commits. It returns
// second's error.
func concurrent(t *testing.T, pool *pgxpool.Pool, firstSQL string, firstArgs []any,
	second func(ctx context.Context, tx pgx.Tx) error, events ...string) error {
	t.Helper()
	ctx := context.Background()
	first, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = first.Rollback(ctx) }()
	_, err = first.Exec(ctx, firstSQL, firstArgs...)
	require.NoError(t, err)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	pid := conn.Conn().PgConn().PID()
	done := make(chan error, 1)
	go func() {
		done <- pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return second(ctx, tx) })
	}()
	waitLocked(t, pool, pid, done, events...)
	require.NoError(t, first.Commit(ctx))
	return <-done
}

func createIn(campaignID int64, contactIDs []int64) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := deliveries.Create(ctx, tx, campaignID, "main", contactIDs)
		return err
	}
}

func execIn(sql string, args ...any) func(context.Context, pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}
}

// TestContactDeletedWhileDeliveriesInserted: the contact's key-share lock
// of each row is replaced by one advisory lock per statement; a deletion of
// a contact concurrent with an insert of its delivery still ends with
// either the insert refused or the delivery deleted, never an orphan.
func TestContactDeletedWhileDeliveriesInserted(t *testing.T) {
	t.Parallel()
	pool, cid, contacts := fixture(t, 3)

	// The deletion first: the insert waits for it to commit, then finds the
	// contact gone.
	err := concurrent(t, pool, `DELETE FROM contacts WHERE id = $1`, []any{contacts[0]},
		createIn(cid, contacts), "advisory")
	requireFKViolation(t, err, "deliveries_contact_id_fkey", `Key (contact_id)=(`+itoa(contacts[0])+`) is not present in table "contacts".`)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries`))

	// The insert first: the deletion waits for it to commit, then deletes
	// the delivery it inserted.
	err = concurrent(t, pool, `INSERT INTO deliveries (campaign_id, step, contact_id) SELECT $1, 'main', unnest($2::bigint[])`,
		[]any{cid, contacts[1:]}, execIn(`DELETE FROM contacts WHERE id = $1`, contacts[1]), "advisory")
	require.NoError(t, err)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries WHERE contact_id = $1`, contacts[1]))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM deliveries WHERE contact_id = $1`, contacts[2]))
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = d.contact_id)`))
}

// TestCampaignDeletedWhileRowsInserted: the campaign is locked once per
// statement (FOR KEY SHARE, as the foreign key did per row), so a deletion
// concurrent with an insert of its deliveries or people is ordered.
func TestCampaignDeletedWhileRowsInserted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, cid, contacts := fixture(t, 2)
	var second int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('s', 'running') RETURNING id`).Scan(&second))

	err := concurrent(t, pool, `DELETE FROM campaigns WHERE id = $1`, []any{cid},
		createIn(cid, contacts), "transactionid", "tuple")
	requireFKViolation(t, err, "deliveries_campaign_id_fkey", `Key (campaign_id)=(`+itoa(cid)+`) is not present in table "campaigns".`)

	err = concurrent(t, pool, `INSERT INTO deliveries (campaign_id, step, contact_id) SELECT $1, 'main', unnest($2::bigint[])`,
		[]any{second, contacts}, execIn(`DELETE FROM campaigns WHERE id = $1`, second), "transactionid", "tuple")
	require.NoError(t, err)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries`))

	var third int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO campaigns (name, status) VALUES ('t', 'running') RETURNING id`).Scan(&third))
	err = concurrent(t, pool, `INSERT INTO campaign_people (campaign_id, contact_id) SELECT $1, unnest($2::bigint[])`,
		[]any{third, contacts}, execIn(`DELETE FROM campaigns WHERE id = $1`, third), "transactionid", "tuple")
	require.NoError(t, err)
	require.Zero(t, count(t, pool, `SELECT count(*) FROM campaign_people`))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTruncateCascadeFollowsReferences: TRUNCATE … CASCADE of contacts or
// campaigns empties their deliveries (and a campaign's people), as it did
// through the foreign keys. Since 047 the deliveries are reached by a
// trigger whose own TRUNCATE … CASCADE meets tables the outer statement is
// already truncating (transactions references contacts, campaigns and
// deliveries): migration 050 deletes instead when it must (it failed with
// 55006 before).
func TestTruncateCascadeFollowsReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, table := range []string{"contacts", "campaigns"} {
		pool, cid, contacts := fixture(t, 3)
		_, err := deliveries.Create(ctx, pool, cid, "main", contacts)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO campaign_people (campaign_id, contact_id) SELECT $1, unnest($2::bigint[])`, cid, contacts)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO events (delivery_id, campaign_id, step, contact_id, type)
			SELECT id, campaign_id, step, contact_id, 'open' FROM deliveries`)
		require.NoError(t, err)

		_, err = pool.Exec(ctx, `TRUNCATE `+table+` CASCADE`)
		require.NoError(t, err, "TRUNCATE %s CASCADE", table)
		require.Zero(t, count(t, pool, `SELECT count(*) FROM deliveries`), "deliveries after TRUNCATE %s", table)
		require.Zero(t, count(t, pool, `SELECT count(*) FROM events`), "events after TRUNCATE %s", table)
		if table == "campaigns" {
			require.Zero(t, count(t, pool, `SELECT count(*) FROM campaign_people`))
			require.Equal(t, 3, count(t, pool, `SELECT count(*) FROM contacts`), "the contacts stay")
		}
	}
}
