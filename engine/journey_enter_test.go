package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
)

// launchJourney turns the seeded campaign into an event journey on event
// (reentry as given) and launches it.
func (b *bundle) launchJourney(t *testing.T, c campaigns.Campaign, event, reentry string) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	c.Entry = campaigns.Entry{Type: campaigns.EntryEvent, Event: event}
	c.Reentry = reentry
	require.NoError(t, b.svc.Update(ctx, &c))
	launched, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusRunning, launched.Status)
	return launched
}

// enter calls Engine.Enter in its own transaction.
func (b *bundle) enter(t *testing.T, campaignID int64, contactIDs ...int64) int {
	t.Helper()
	var n int
	require.NoError(t, pgx.BeginFunc(context.Background(), b.pool, func(tx pgx.Tx) (err error) {
		n, err = b.eng.Enter(context.Background(), tx, campaignID, contactIDs, engine.EntryCause{Reason: "test"})
		return err
	}))
	return n
}

func (b *bundle) contactID(t *testing.T, email string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM contacts WHERE email = $1`, email).Scan(&id))
	return id
}

// waitReceived waits until rcpt has n messages.
func (b *bundle) waitReceived(t *testing.T, rcpt string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return b.received(rcpt, "") >= n }, 20*time.Second, 20*time.Millisecond,
		"%s never received %d messages", rcpt, n)
}

// TestEnterRecordsAnEntryPerRoundAndHonoursReentry: Enter lets a contact
// into a running event journey once (reentry never), sends its first step
// in the entry's round, and the campaign keeps running.
func TestEnterRecordsAnEntryPerRoundAndHonoursReentry(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.launchJourney(t, b.seed(t, 2, 0), "signup", campaigns.ReentryNever)
	sara := b.contactID(t, "user0@example.com")

	require.Equal(t, 1, b.enter(t, c.ID, sara))
	b.waitReceived(t, "user0@example.com", 1)
	require.Equal(t, 0, b.enter(t, c.ID, sara), "reentry never: no second entry")

	var round int64
	var step, status string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id, step, status FROM campaign_entries WHERE campaign_id = $1 AND contact_id = $2`,
		c.ID, sara).Scan(&round, &step, &status))
	require.Equal(t, "main", step)
	var dRound int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT round FROM deliveries WHERE campaign_id = $1 AND contact_id = $2`, c.ID, sara).Scan(&dRound))
	require.Equal(t, round, dRound, "the delivery is in the entry's round")
	got, err := campaigns.Get(ctx, b.pool, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusRunning, got.Status, "a triggered campaign does not finish when its step drains")
	require.Equal(t, 1, b.received("user0@example.com", ""))
	require.Zero(t, b.received("user1@example.com", ""), "nobody else entered")
}

// TestConcurrentEntriesMakeOne: concurrent calls for the same contact
// (two signups at once) make one entry under reentry never.
func TestConcurrentEntriesMakeOne(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.launchJourney(t, b.seed(t, 1, 0), "signup", campaigns.ReentryNever)
	sara := b.contactID(t, "user0@example.com")
	const n = 8
	start := make(chan struct{})
	results := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			<-start
			var got int
			err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) (err error) {
				got, err = b.eng.Enter(ctx, tx, c.ID, []int64{sara}, engine.EntryCause{Reason: "test"})
				return err
			})
			results <- got
			errs <- err
		}()
	}
	close(start)
	total := 0
	for range n {
		require.NoError(t, <-errs)
		total += <-results
	}
	require.Equal(t, 1, total)
	var entries int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM campaign_entries WHERE campaign_id = $1`, c.ID).Scan(&entries))
	require.Equal(t, 1, entries)
	b.waitReceived(t, "user0@example.com", 1)
}
