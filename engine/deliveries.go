package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/campaigns"
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

// Delivery statuses.
const (
	DeliveryQueued  = "queued"
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliveryBounced = "bounced"
	DeliverySkipped = "skipped"
)

// deliveryHeld is a result, not a stored status: back to queued without the
// attempt counting (frequency cap).
const deliveryHeld = "held"

// maxDeliveryAttempts is how many times a temporarily failing delivery is
// tried before it is marked failed.
const maxDeliveryAttempts = 6

type delivery struct {
	ID         int64
	CampaignID int64
	Step       string
	ContactID  int64
	Attempts   int
	// Exited: a rule's exit action took the contact out of the campaign,
	// so this (follow-up) delivery is skipped, not sent.
	Exited bool
}

// insertDeliveries creates the deliveries of a step for contacts, skipping
// those that exist, and returns the ids of the new ones.
func insertDeliveries(ctx context.Context, tx pgx.Tx, campaignID int64, step string, contactIDs []int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `
		INSERT INTO deliveries (campaign_id, step, contact_id)
		SELECT $1, $2, unnest($3::bigint[])
		ON CONFLICT (campaign_id, step, contact_id) DO NOTHING
		RETURNING id`, campaignID, step, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert deliveries: %w", err)
	}
	err = tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: campaignID, Step: step, Metric: tracking.MetricDeliveries, At: time.Now(), N: int64(len(ids))}})
	return ids, err
}

// claim marks the queued deliveries among ids as sending by job. A retry of
// the same job also reclaims its own rows left in sending by a crash, but
// only once they are stale (claimed longer than staleAfter ago): River may
// rescue an attempt that is slow rather than dead and run the retry while
// the first attempt still sends, and a fresh claim may be that attempt's.
// No other job can take a claimed row, so a delivery is in at most one
// sender's hands. The same statement says which contacts have exited the
// campaign (a rule's exit action), whose deliveries the caller records as
// skipped in the outcome transaction like any unsendable one.
func claim(ctx context.Context, db DBTX, jobID int64, ids []int64, staleAfter time.Duration) ([]delivery, error) {
	rows, err := db.Query(ctx, `
		UPDATE deliveries d SET status = 'sending', sending_at = now(), attempts = attempts + 1, claimed_by = $1
		WHERE id = ANY($2) AND (status = 'queued'
			OR (status = 'sending' AND claimed_by = $1 AND sending_at < now() - $3::interval))
		RETURNING id, campaign_id, step, contact_id, attempts,
			EXISTS (SELECT 1 FROM campaign_exits x WHERE x.campaign_id = d.campaign_id AND x.contact_id = d.contact_id)`,
		jobID, ids, staleAfter.String())
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (delivery, error) {
		var d delivery
		return d, r.Scan(&d.ID, &d.CampaignID, &d.Step, &d.ContactID, &d.Attempts, &d.Exited)
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// stillClaimed counts deliveries among ids that job claimed and that are
// still sending: an earlier attempt's, crashed or still running.
func stillClaimed(ctx context.Context, db DBTX, jobID int64, ids []int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE id = ANY($1) AND status = 'sending' AND claimed_by = $2`, ids, jobID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("check claims: %w", err)
	}
	return n, nil
}

// result is a delivery's outcome to record.
type result struct {
	id     int64
	status string // sent, queued (retry), failed, bounced
	detail string // error text, or the server's acceptance
}

// recordResults stores outcomes in one statement and returns the rollup
// counts of the final ones, for the caller to add last in the same
// transaction: every sender of a campaign bumps the same rollup rows, so
// their row locks should be held only for the commit.
func recordResults(ctx context.Context, tx pgx.Tx, rs []result, at time.Time) ([]tracking.Count, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rs))
	statuses := make([]string, len(rs))
	details := make([]string, len(rs))
	for i, r := range rs {
		ids[i], statuses[i], details[i] = r.id, r.status, r.detail
	}
	rows, err := tx.Query(ctx, `
		UPDATE deliveries d SET
			status = CASE WHEN v.status = 'held' THEN 'queued' ELSE v.status END,
			attempts = CASE WHEN v.status = 'held' THEN d.attempts - 1 ELSE d.attempts END,
			sent_at = CASE WHEN v.status IN ('sent', 'bounced') THEN $4 ELSE d.sent_at END,
			bounced_at = CASE WHEN v.status = 'bounced' THEN $4 ELSE d.bounced_at END,
			response = CASE WHEN v.status = 'sent' THEN v.detail ELSE d.response END,
			last_error = CASE WHEN v.status = 'sent' THEN '' ELSE v.detail END
		FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, status, detail)
		WHERE d.id = v.id AND d.status = 'sending'
		RETURNING d.campaign_id, d.step, d.status, d.contact_id`, ids, statuses, details, at)
	if err != nil {
		return nil, fmt.Errorf("record delivery results: %w", err)
	}
	counts, err := countStatuses(rows, at)
	if err != nil {
		return nil, fmt.Errorf("record delivery results: %w", err)
	}
	return counts, nil
}

// statusMetric is the rollup metric of a final delivery status.
var statusMetric = map[string]string{
	DeliverySent:    tracking.MetricSent,
	DeliveryBounced: tracking.MetricSendBounced,
	DeliveryFailed:  tracking.MetricFailed,
	DeliverySkipped: tracking.MetricSkipped,
}

// countStatuses turns (campaign_id, step, status, contact_id) rows into
// rollup counts; the contact lets tracking keep the campaign's people.
func countStatuses(rows pgx.Rows, at time.Time) ([]tracking.Count, error) {
	defer rows.Close()
	var counts []tracking.Count
	for rows.Next() {
		var c tracking.Count
		var status string
		if err := rows.Scan(&c.CampaignID, &c.Step, &status, &c.ContactID); err != nil {
			return nil, err
		}
		if m, ok := statusMetric[status]; ok {
			c.Metric, c.At, c.N = m, at, 1
			counts = append(counts, c)
		}
	}
	return counts, rows.Err()
}

// skipQueued gives up a campaign's deliveries that were not sent yet (all,
// or those among ids).
func skipQueued(ctx context.Context, tx pgx.Tx, campaignID int64, ids []int64, reason string) error {
	rows, err := tx.Query(ctx, `UPDATE deliveries SET status = 'skipped', last_error = $3
		WHERE campaign_id = $1 AND status = 'queued' AND ($2::bigint[] IS NULL OR id = ANY($2))
		RETURNING campaign_id, step, status, contact_id`, campaignID, ids, reason)
	if err != nil {
		return fmt.Errorf("skip deliveries: %w", err)
	}
	counts, err := countStatuses(rows, time.Now())
	if err != nil {
		return fmt.Errorf("skip deliveries: %w", err)
	}
	return tracking.AddCounts(ctx, tx, counts)
}

// finishIfDone marks the campaign finished when its launch is complete and
// every delivery of its first step has a final outcome, as counted by the
// rollups that the same transactions wrote. The campaign row lock orders
// concurrent deciders, and the check runs in a statement after the lock so
// it sees every transaction that committed before.
func finishIfDone(ctx context.Context, tx pgx.Tx, campaignID int64) (bool, error) {
	if err := campaigns.LockRow(ctx, tx, campaignID); err != nil {
		return false, err
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
	return campaigns.Finish(ctx, tx, campaignID)
}

// progress reads a campaign's sending progress from the rollups (and the
// few deliveries in flight), so it costs the same at any size.
func progress(ctx context.Context, db DBTX, campaignID int64) (campaigns.Progress, error) {
	now := time.Now()
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
	return p, nil
}

// progressCounts reads the campaign's totals by outcome and its sends per
// minute over the last three minute buckets (for sendRate).
func progressCounts(ctx context.Context, db DBTX, campaignID int64, now time.Time) (campaigns.Progress, map[time.Time]int64, error) {
	var p campaigns.Progress
	recent := map[time.Time]int64{}
	b := &pgx.Batch{}
	tracking.QueueOutcomeTotals(b, campaignID, func(m tracking.MetricCount) {
		switch m.Metric {
		case tracking.MetricDeliveries:
			p.Total = m.Count
		case tracking.MetricSent:
			p.Sent = m.Count
		case tracking.MetricSendBounced:
			p.Bounced += m.Count
		case tracking.MetricBounces:
			p.AsyncBounced = m.Count
		case tracking.MetricFailed:
			p.Failed = m.Count
		case tracking.MetricSkipped:
			p.Skipped = m.Count
		}
	})
	tracking.QueueSendsPerMinute(b, campaignID, now.Truncate(time.Minute).Add(-2*time.Minute), func(at time.Time, n int64) {
		recent[at] = n
	})
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return p, nil, fmt.Errorf("campaign progress: %w", err)
	}
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
	rows, err := db.Query(ctx, `SELECT status, last_error, count(*) FROM (
			SELECT status, last_error FROM deliveries WHERE campaign_id = $1 AND status IN ('failed', 'skipped') LIMIT $2
		) d GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`, campaignID, campaigns.ReasonSample)
	if err != nil {
		return nil, fmt.Errorf("campaign progress reasons: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r campaigns.ProgressReason
		if err := rows.Scan(&r.Status, &r.Reason, &r.Count); err != nil {
			return nil, fmt.Errorf("campaign progress reasons: %w", err)
		}
		if r.Reason == "" {
			r.Reason = "no reason recorded"
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaign progress reasons: %w", err)
	}
	return out, nil
}
