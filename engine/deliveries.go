package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/tracking"
)

// DBTX is a pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// maxDeliveryAttempts is how many times a temporarily failing delivery is
// tried before it is marked failed.
const maxDeliveryAttempts = 6

// insertDeliveries creates the deliveries of a step for contacts (the
// deliveries package skips those that exist), counts them in the rollups
// at at, and returns the ids of the new ones.
func insertDeliveries(ctx context.Context, tx pgx.Tx, campaignID int64, step string, contactIDs []int64, at time.Time) ([]int64, error) {
	ids, err := deliveries.Create(ctx, tx, campaignID, step, contactIDs)
	if err != nil {
		return nil, err
	}
	err = tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: campaignID, Step: step, Metric: tracking.MetricDeliveries, At: at, N: int64(len(ids))}})
	return ids, err
}

// statusMetric is the rollup metric of a final delivery status.
var statusMetric = map[string]string{
	deliveries.Sent:    tracking.MetricSent,
	deliveries.Bounced: tracking.MetricSendBounced,
	deliveries.Failed:  tracking.MetricFailed,
	deliveries.Skipped: tracking.MetricSkipped,
}

// countFinals turns the rows a write changed into rollup counts at at; the
// contact lets tracking keep the campaign's people.
func countFinals(finals []deliveries.Final, at time.Time) []tracking.Count {
	counts := make([]tracking.Count, 0, len(finals))
	for _, f := range finals {
		if m, ok := statusMetric[f.Status]; ok {
			counts = append(counts, tracking.Count{CampaignID: f.CampaignID, Step: f.Step, ContactID: f.ContactID, Metric: m, At: at, N: 1})
		}
	}
	return counts
}

// skipQueued gives up a campaign's deliveries that were not sent yet (all,
// or those among ids) and counts them at at.
func skipQueued(ctx context.Context, tx pgx.Tx, campaignID int64, ids []int64, reason string, at time.Time) error {
	finals, err := deliveries.SkipQueued(ctx, tx, campaignID, ids, reason)
	if err != nil {
		return err
	}
	return tracking.AddCounts(ctx, tx, countFinals(finals, at))
}

// finishIfDone marks the campaign finished when its launch is complete,
// every delivery of its first step has a final outcome, as counted by the
// rollups that the same transactions wrote, and the send fold has folded
// every outcome of the campaign. The campaign row lock orders
// concurrent deciders, and the check runs in a statement after the lock so
// it sees every transaction that committed before.
//
// The lock does not block inserts of deliveries (lock_row says why), so
// an A/B remainder page may commit between two of the checks: its
// deliveries and its remainder_done commit together. Hence the remainder
// is read first: if it is seen done, the later rollups read sees its
// deliveries too; if not, nothing finishes. The launch's pages update the
// campaign row, so they wait for the lock (or it for them).
func finishIfDone(ctx context.Context, tx pgx.Tx, campaignID int64) (bool, error) {
	if err := campaigns.LockRow(ctx, tx, campaignID); err != nil {
		return false, err
	}
	if pending, err := campaigns.RemainderPending(ctx, tx, campaignID); err != nil || pending {
		return false, err // an A/B test's remainder waits for its winner
	}
	// Only the first step's sends make a campaign finished; follow-ups
	// created by rules keep going after it, until rules_until.
	remaining, err := tracking.FirstStepRemaining(ctx, tx, campaignID)
	if err != nil {
		return false, fmt.Errorf("check campaign done: %w", err)
	}
	if remaining > 0 {
		return false, nil
	}
	// A campaign is finished once its people and its contacts' sent
	// counts are folded too (send_fold.go): a report read after the
	// status says finished counts every recipient. The fold finishes it
	// when it takes the last of its outcomes.
	var folding bool
	if err := tx.QueryRow(ctx, queries.Get("outcomes_pending_for"), campaignID).Scan(&folding); err != nil {
		return false, fmt.Errorf("check campaign done: %w", err)
	}
	if folding {
		return false, nil
	}
	return campaigns.Finish(ctx, tx, campaignID)
}

// progress reads a campaign's sending progress from the rollups (and the
// few deliveries in flight), so it costs the same at any size.
func progress(ctx context.Context, db DBTX, campaignID int64, now time.Time) (campaigns.Progress, error) {
	p, recent, err := progressCounts(ctx, db, campaignID, now)
	if err != nil {
		return p, err
	}
	// Queued counts what is waiting or in a sender's hands right now
	// (telling the two apart would need an index on status, which would
	// make every send's two updates non-HOT).
	p.Remaining = p.Total - p.Sent - p.Bounced - p.Failed - p.Skipped
	p.Queued = p.Remaining
	st, err := campaigns.GetLaunchState(ctx, db, campaignID)
	if err != nil {
		return p, err
	}
	p.LaunchDone, p.Suppressed = st.Done, st.Suppressed
	if st.Status == campaigns.StatusRunning {
		p.Rate = sendRate(recent, now, st.LaunchedAt, st.ThrottlePerSecond)
		if p.Rate > 0 && p.Remaining > 0 {
			eta := now.Add(time.Duration(float64(p.Remaining) / p.Rate * float64(time.Second)))
			p.EstimatedFinish = &eta
		}
	}
	if p.Reasons, err = progressReasons(ctx, db, campaignID, p.Failed+p.Skipped); err != nil {
		return p, err
	}
	if p.Capped, err = cappedCount(ctx, db, campaignID, p.Skipped); err != nil {
		return p, err
	}
	return p, nil
}

// progressCounts reads the campaign's totals by outcome and its sends per
// minute over the last three minute buckets (for sendRate).
func progressCounts(ctx context.Context, db DBTX, campaignID int64, now time.Time) (campaigns.Progress, map[time.Time]int64, error) {
	var p campaigns.Progress
	recent := map[time.Time]int64{}
	b := &pgx.Batch{}
	var c tracking.Counts
	tracking.QueueOutcomeTotals(b, campaignID, func(m tracking.MetricCount) { c.Add(m.Metric, false, m.Count, 0) })
	tracking.QueueSendsPerMinute(b, campaignID, now.Truncate(time.Minute).Add(-2*time.Minute), func(at time.Time, n int64) {
		recent[at] = n
	})
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return p, nil, fmt.Errorf("campaign progress: %w", err)
	}
	p.Total, p.Sent, p.Failed, p.Skipped = c.Deliveries, c.Sent, c.Failed, c.Skipped
	p.Bounced, p.AsyncBounced = c.SendBounced, c.Bounces
	return p, recent, nil
}

// sendRate is the send rate in messages per second at now, from the sends
// per minute bucket: over the previous minute and the current one so far
// when sending went on through the previous minute; otherwise (sending
// began within the window) over the time since it began, which is the
// later of the first bucket with sends and startedAt (when the campaign
// started sending). A campaign cannot send faster than its throttle, so the
// rate is capped at throttle when that is set.
func sendRate(sends map[time.Time]int64, now time.Time, startedAt *time.Time, throttle float64) float64 {
	cur := now.UTC().Truncate(time.Minute)
	prev, before := cur.Add(-time.Minute), cur.Add(-2*time.Minute)
	n := sends[prev] + sends[cur]
	if n == 0 {
		return 0
	}
	from := prev
	switch {
	case sends[prev] > 0 && sends[before] > 0:
	case sends[prev] == 0:
		from = cur
		fallthrough
	default:
		if startedAt != nil && startedAt.After(from) {
			from = *startedAt
		}
	}
	secs := max(now.Sub(from).Seconds(), 1)
	rate := float64(n) / secs
	if throttle > 0 {
		rate = min(rate, throttle)
	}
	return rate
}

// progressReasons lists why the campaign's deliveries failed or were
// skipped, from at most campaigns.ReasonSample of them (an index range
// scan, bounded whatever the campaign's size). none is how many there are:
// 0 skips the query.
func progressReasons(ctx context.Context, db DBTX, campaignID, none int64) ([]campaigns.ProgressReason, error) {
	out := []campaigns.ProgressReason{}
	if none == 0 {
		return out, nil
	}
	rs, err := deliveries.FailureReasons(ctx, db, campaignID, campaigns.ReasonSample)
	if err != nil {
		return nil, fmt.Errorf("campaign progress reasons: %w", err)
	}
	for _, r := range rs {
		if r.Reason == "" {
			r.Reason = "no reason recorded"
		}
		out = append(out, campaigns.ProgressReason{Status: r.Status, Reason: r.Reason, Count: r.Count})
	}
	return out, nil
}
