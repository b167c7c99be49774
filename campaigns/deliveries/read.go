package deliveries

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Row is a delivery's identity and when it was sent (zero: not yet).
type Row struct {
	ID         int64
	CampaignID int64
	ContactID  int64
	Step       string
	SentAt     time.Time
	// Round is the triggered campaign's entry the delivery belongs to (0:
	// a blast's).
	Round int64
}

// Get reads delivery id.
func Get(ctx context.Context, db DBTX, id int64) (Row, error) {
	var d Row
	var sentAt *time.Time
	err := db.QueryRow(ctx, queries.Get("get"), id).Scan(&d.ID, &d.CampaignID, &d.ContactID, &d.Step, &sentAt, &d.Round)
	if err != nil {
		return d, fmt.Errorf("load delivery %d: %w", id, err)
	}
	if sentAt != nil {
		d.SentAt = *sentAt
	}
	return d, nil
}

// SentSince returns when the contact was sent the campaign's messages
// after since, latest first.
func SentSince(ctx context.Context, db DBTX, contactID, campaignID int64, since time.Time) ([]time.Time, error) {
	rows, err := db.Query(ctx, queries.Get("sent_since"), contactID, campaignID, since)
	if err != nil {
		return nil, fmt.Errorf("recent sends: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("recent sends: %w", err)
	}
	return out, nil
}

// Reason is how many of a campaign's deliveries ended in Status for
// Reason.
type Reason struct {
	Status string
	Reason string
	Count  int64
}

// FailureReasons groups why the campaign's failed and skipped deliveries
// did not go, from at most sample of them, most frequent first.
func FailureReasons(ctx context.Context, db DBTX, campaignID int64, sample int) ([]Reason, error) {
	rows, err := db.Query(ctx, queries.Get("failure_reasons"), campaignID, sample)
	if err != nil {
		return nil, fmt.Errorf("delivery failure reasons: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Reason, error) {
		var x Reason
		return x, r.Scan(&x.Status, &x.Reason, &x.Count)
	})
	if err != nil {
		return nil, fmt.Errorf("delivery failure reasons: %w", err)
	}
	return out, nil
}

// Absence is what a timer rule waits for not to happen.
type Absence string

// Absences a timer rule can wait on.
const (
	NoOpen       Absence = "no_open"
	NoClick      Absence = "no_click"
	NoConversion Absence = "no_conversion"
)

var absenceQuery = map[Absence]string{NoOpen: "unopened", NoClick: "unclicked", NoConversion: "unconverted"}

// SentWithout returns the sent deliveries among ids for which a has held
// (never opened, clicked, or converted). ok is false for an unknown a.
func SentWithout(ctx context.Context, db DBTX, a Absence, ids []int64) (due []int64, ok bool, err error) {
	name, ok := absenceQuery[a]
	if !ok {
		return nil, false, nil
	}
	rows, err := db.Query(ctx, queries.Get(name), ids)
	if err != nil {
		return nil, true, fmt.Errorf("timer deliveries: %w", err)
	}
	due, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, true, fmt.Errorf("timer deliveries: %w", err)
	}
	return due, true, nil
}
