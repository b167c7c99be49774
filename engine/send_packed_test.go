package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine"
)

// packedIDs is the ids string a send job of the current format stores.
func packedIDs(t *testing.T, ids []int64) string {
	t.Helper()
	b, err := json.Marshal(engine.SendArgs{DeliveryIDs: ids})
	require.NoError(t, err)
	var a struct {
		IDs string `json:"ids"`
	}
	require.NoError(t, json.Unmarshal(b, &a))
	return a.IDs
}

// TestUnpackDeliveryIDsMatchesGo: migration 051's unpack_delivery_ids
// (what requeue_orphaned reads dead jobs with) reads back exactly the ids,
// in order, that the send job's Go packing wrote, over random lists of
// positive ids with runs, repeats and large gaps both ways; and reads a
// string that is no packing as NULL rather than failing the statement.
func TestUnpackDeliveryIDsMatchesGo(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(52, 14))
	lists := [][]int64{nil, {1}, {9_223_372_036_854_775_807, 1}}
	for range 200 {
		ids := make([]int64, rng.IntN(300))
		id := rng.Int64N(1 << 40)
		for i := range ids {
			switch rng.IntN(6) {
			case 0:
				id = 1 + rng.Int64N(1<<62) // a large gap, either way
			case 1: // a repeat
			default:
				id++
			}
			ids[i] = id
		}
		lists = append(lists, ids)
	}
	for _, ids := range lists {
		var got []int64
		s := packedIDs(t, ids)
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT unpack_delivery_ids($1)`, s).Scan(&got))
		require.Equal(t, len(ids), len(got), "%q", s)
		for i := range ids {
			require.Equal(t, ids[i], got[i], "%q at %d", s, i)
		}
	}
	for _, bad := range []string{"x", "1,", "+1", "1*0", "1*01", "1*1000000000", "9223372036854775807,1"} {
		var got []int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(unpack_delivery_ids($1), '{}')`, bad).Scan(&got))
		require.Empty(t, got, "%q", bad)
	}
}

// againDeliveries adds a second step to finished campaign c and a queued
// delivery of it for each of n contacts, returning their ids.
func (b *bundle) againDeliveries(t *testing.T, c campaigns.Campaign, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	_, err := b.pool.Exec(ctx, `INSERT INTO campaign_steps (campaign_id, key, position, template_id)
		SELECT campaign_id, 'again', 1, template_id FROM campaign_steps WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	rows, err := b.pool.Query(ctx, `INSERT INTO deliveries (campaign_id, step, contact_id, status, attempts)
		SELECT $1, 'again', id, 'queued', 1 FROM contacts ORDER BY id LIMIT $2 RETURNING id`, c.ID, n)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, n)
	return ids
}

// waitAgainSent waits until every delivery of the second step is sent.
func (b *bundle) waitAgainSent(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var sent int
		require.NoError(t, b.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM deliveries WHERE step = 'again' AND status = 'sent'`).Scan(&sent))
		return sent == n
	}, 20*time.Second, 20*time.Millisecond)
}

// TestSendJobOfOlderFormatIsWorked: a send job an older process enqueued
// (kind send, its ids as a delivery_ids array) still sends its deliveries
// once this process's workers take it, although this process enqueues
// kind send_packed.
func TestSendJobOfOlderFormatIsWorked(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 3, 0)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	require.Equal(t, 3, b.sink.Count())

	ids := b.againDeliveries(t, c, 3)
	var jobID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO river_job (kind, args, queue, state, max_attempts, scheduled_at)
		VALUES ('send', $1, 'send', 'available', 10, now()) RETURNING id`,
		fmt.Sprintf(`{"campaign_id": %d, "delivery_ids": [%d, %d, %d]}`, c.ID, ids[0], ids[1], ids[2])).Scan(&jobID))
	b.waitAgainSent(t, 3)
	require.Eventually(t, func() bool {
		var state string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, jobID).Scan(&state))
		return state == "completed"
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, 6, b.sink.Count())
	var claimedBy int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT min(claimed_by) FROM deliveries WHERE step = 'again'`).Scan(&claimedBy))
	require.Equal(t, jobID, claimedBy, "the older job's own worker sent them")
}

// TestSweepResendsOrphanedDeliveriesOfEitherFormat: deliveries held by send
// jobs that ended without sending them, discarded or cancelled, of the
// older format (delivery_ids) and the packed one (ids), are queued again by
// the sweep and each sent once.
func TestSweepResendsOrphanedDeliveriesOfEitherFormat(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c := b.seed(t, 4, 0)
	_, err := b.svc.Launch(ctx, c.ID)
	require.NoError(t, err)
	b.waitStatus(t, c.ID, campaigns.StatusFinished, 20*time.Second)
	require.Equal(t, 4, b.sink.Count())

	ids := b.againDeliveries(t, c, 4)
	packed, err := json.Marshal(engine.SendArgs{CampaignID: c.ID, DeliveryIDs: ids[2:3]})
	require.NoError(t, err)
	cancelledPacked, err := json.Marshal(engine.SendArgs{CampaignID: c.ID, DeliveryIDs: ids[3:4]})
	require.NoError(t, err)
	for i, j := range []struct{ kind, state, args string }{
		{"send", "discarded", fmt.Sprintf(`{"campaign_id": %d, "delivery_ids": [%d]}`, c.ID, ids[0])},
		{"send", "cancelled", fmt.Sprintf(`{"campaign_id": %d, "delivery_ids": [%d]}`, c.ID, ids[1])},
		{"send_packed", "discarded", string(packed)},
		{"send_packed", "cancelled", string(cancelledPacked)},
	} {
		var jobID int64
		require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO river_job (kind, args, queue, state, max_attempts, attempt, finalized_at, attempted_at)
			VALUES ($1, $2, 'send', $3, 1, 1, now(), now()) RETURNING id`, j.kind, j.args, j.state).Scan(&jobID))
		_, err = b.pool.Exec(ctx, `UPDATE deliveries SET claimed_by = $1, status = 'sending' WHERE id = $2`, jobID, ids[i])
		require.NoError(t, err)
	}
	_, err = b.client.Insert(ctx, engine.SweepArgs{}, nil)
	require.NoError(t, err)
	b.waitAgainSent(t, 4)
	b.waitSettled(t, 0, "sweep_deliveries", "send", "send_packed")
	require.Equal(t, 8, b.sink.Count())

	// A second sweep finds nothing more to do.
	_, err = b.client.Insert(ctx, engine.SweepArgs{}, nil)
	require.NoError(t, err)
	b.waitSettled(t, 0, "sweep_deliveries", "send", "send_packed")
	require.Equal(t, 8, b.sink.Count())
}
