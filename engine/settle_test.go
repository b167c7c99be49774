package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

// waitSettled waits until no job of kinds (for campaign campaignID, or any
// campaign when it is 0) can act before a later time: each has ended
// (completed, discarded, cancelled) or has run and been snoozed (River
// keeps a short snooze "available" with a later scheduled_at). What such
// jobs did not do by then, they did not do: a test asserts "did not
// happen" after it, without sleeping.
func (b *bundle) waitSettled(t *testing.T, campaignID int64, kinds ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var pending int
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = ANY($1) AND ($2 = 0 OR (args->>'campaign_id')::bigint = $2)
			  AND NOT (state IN ('completed', 'discarded', 'cancelled')
			       OR (state IN ('scheduled', 'available') AND attempted_at IS NOT NULL AND scheduled_at > now()))`,
			kinds, campaignID).Scan(&pending))
		return pending == 0
	}, 30*time.Second, 20*time.Millisecond, "jobs %v of campaign %d never settled", kinds, campaignID)
}

// snoozes subscribes to snoozed jobs; next waits for the next snooze of a
// job of kind for campaignID: a run that began after the subscription and
// decided to wait.
type snoozes struct {
	events <-chan *river.Event
}

func (b *bundle) subscribeSnoozes(t *testing.T) *snoozes {
	t.Helper()
	events, cancel := b.client.Subscribe(river.EventKindJobSnoozed)
	t.Cleanup(cancel)
	return &snoozes{events: events}
}

func (s *snoozes) next(t *testing.T, kind string, campaignID int64) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.Job.Kind == kind && jobCampaign(ev.Job.EncodedArgs) == campaignID {
				return
			}
		case <-deadline:
			t.Fatalf("no %s job of campaign %d was snoozed", kind, campaignID)
		}
	}
}

// jobCampaign is the campaign_id of a job's arguments (0 when none).
func jobCampaign(args []byte) int64 {
	var a struct {
		CampaignID int64 `json:"campaign_id"`
	}
	_ = json.Unmarshal(args, &a)
	return a.CampaignID
}

// waitInboxEmpty waits until the journey inbox's drainer has taken every
// waiting event.
func (b *bundle) waitInboxEmpty(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM journey_inbox`).Scan(&n))
		return n == 0
	}, 30*time.Second, 20*time.Millisecond, "the journey inbox never emptied")
}
