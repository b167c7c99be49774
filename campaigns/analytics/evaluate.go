package analytics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// Evaluation is an honest check of the response model: the prior is fitted
// and contacts scored on deliveries sent before the hold-out campaigns (the
// most recent ones), then the scores are judged on who answered the
// hold-out campaigns.
type Evaluation struct {
	// HoldoutCampaigns are the campaigns judged on; empty when there was
	// no earlier history to train on.
	HoldoutCampaigns []int64 `json:"holdout_campaigns"`
	// Note says why there is no evaluation, when there is none.
	Note          string  `json:"note,omitempty"`
	TrainContacts int64   `json:"train_contacts"`
	Prior         Prior   `json:"prior"`
	Recipients    int64   `json:"recipients"`
	Responders    int64   `json:"responders"`
	BaseRate      float64 `json:"base_rate"`
	// TopDecileRate is the response rate of the 10% of recipients with the
	// highest scores; Lift = TopDecileRate / BaseRate, with a 95% interval
	// (Wilson interval of the top decile's rate over the base rate).
	TopDecileRate float64 `json:"top_decile_rate"`
	Lift          float64 `json:"lift"`
	LiftLow       float64 `json:"lift_low"`
	LiftHigh      float64 `json:"lift_high"`
	// AUC is the probability that a responder scores above a
	// non-responder (ties count half), with its Hanley–McNeil standard error.
	AUC   float64 `json:"auc"`
	AUCSE float64 `json:"auc_se"`
}

// holdout picks the channel's n most recently launched campaigns that
// have sent deliveries, and the launch time of the earliest of them (the
// training cut-off).
func holdout(ctx context.Context, tx pgx.Tx, channel string, n int) ([]int64, time.Time, error) {
	rows, err := tx.Query(ctx, query("holdout_campaigns"), channel, max(n, 1))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("analytics: hold-out campaigns: %w", err)
	}
	defer rows.Close()
	ids := []int64{}
	var cutoff time.Time
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &cutoff); err != nil {
			return nil, time.Time{}, fmt.Errorf("analytics: hold-out campaigns: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, cutoff, rows.Err()
}

// Evaluate trains on channel's deliveries sent before its holdoutN most
// recent campaigns and judges the scores on those campaigns' recipients.
// It writes nothing.
func Evaluate(ctx context.Context, db DBTX, channel string, holdoutN int) (Evaluation, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return Evaluation{}, fmt.Errorf("analytics: evaluate: %w", err)
	}
	defer tx.Rollback(ctx)
	held, cutoff, err := holdout(ctx, tx, channel, holdoutN)
	if err != nil {
		return Evaluation{}, err
	}
	if err := tally(ctx, tx, channel, held, cutoff); err != nil {
		return Evaluation{}, err
	}
	return evaluateCounts(ctx, tx, held)
}

// evaluateCounts judges the training prior on the hold-out recipients in
// countsTable: one example per recipient of the hold-out campaigns
// (answered any of them or not), scored from their training history.
// Ties in the score are broken by a hash of the contact id for the
// decile, which is unrelated to the outcome.
func evaluateCounts(ctx context.Context, tx pgx.Tx, held []int64) (Evaluation, error) {
	ev := Evaluation{HoldoutCampaigns: held}
	if len(held) == 0 {
		ev.Note = "no sent campaign yet"
		return ev, nil
	}
	prior, err := fitFrom(ctx, tx, "nt", "kt")
	if err != nil {
		return ev, err
	}
	ev.Prior, ev.TrainContacts = prior, prior.Contacts
	if prior.Contacts == 0 {
		ev.Note = "no deliveries before the hold-out campaigns to train on"
		return ev, nil
	}
	q := `WITH scored AS (
		SELECT yh AS y, (kt + $1) / (nt + $1 + $2) AS score, contact_id FROM ` + countsTable + ` WHERE held
	),
	ranked AS (
		SELECT y,
			rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS r,
			ntile(10) OVER (ORDER BY score DESC, md5(contact_id::text)) AS decile
		FROM scored
	)
	SELECT count(*), count(*) FILTER (WHERE y), coalesce(sum(r) FILTER (WHERE y), 0)::float8,
		count(*) FILTER (WHERE decile = 1), count(*) FILTER (WHERE decile = 1 AND y)
	FROM ranked`
	var n, pos, top, topPos int64
	var sumRanks float64
	if err := tx.QueryRow(ctx, q, prior.Alpha, prior.Beta).Scan(&n, &pos, &sumRanks, &top, &topPos); err != nil {
		return ev, fmt.Errorf("analytics: evaluate response model: %w", err)
	}
	ev.fill(n, pos, sumRanks, top, topPos)
	return ev, nil
}

// fill derives the rates, lift and AUC from the hold-out counts.
func (ev *Evaluation) fill(n, pos int64, sumRanks float64, top, topPos int64) {
	ev.Recipients, ev.Responders = n, pos
	if n == 0 || pos == 0 || pos == n || top == 0 {
		ev.Note = "the hold-out has no responders or no non-responders: lift and AUC are undefined"
		return
	}
	base := float64(pos) / float64(n)
	p1 := float64(topPos) / float64(top)
	lo, hi := wilson(topPos, top)
	ev.BaseRate = roundTo(base, 6)
	ev.TopDecileRate = roundTo(p1, 6)
	ev.Lift = roundTo(p1/base, 4)
	ev.LiftLow = roundTo(lo/base, 4)
	ev.LiftHigh = roundTo(hi/base, 4)
	neg := float64(n - pos)
	P := float64(pos)
	auc := (sumRanks - P*(P+1)/2) / (P * neg)
	q1 := auc / (2 - auc)
	q2 := 2 * auc * auc / (1 + auc)
	se := math.Sqrt((auc*(1-auc) + (P-1)*(q1-auc*auc) + (neg-1)*(q2-auc*auc)) / (P * neg))
	ev.AUC = roundTo(auc, 4)
	ev.AUCSE = roundTo(se, 4)
}

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int64) (float64, float64) {
	p := float64(k) / float64(n)
	z2 := z95 * z95
	nn := float64(n)
	den := 1 + z2/nn
	c := (p + z2/(2*nn)) / den
	h := z95 * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn)) / den
	return c - h, c + h
}
