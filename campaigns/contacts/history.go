package contacts

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// History is a contact's recent interactions, newest first: what was sent
// to them, what they (or machines on their behalf) did with it, and their
// transactions. Export has everything; this is the profile page's view.
type History struct {
	Deliveries   []HistoryDelivery    `json:"deliveries"`
	Events       []HistoryEvent       `json:"events"`
	Transactions []HistoryTransaction `json:"transactions"`
}

// HistoryDelivery is one message sent (or due) to the contact.
type HistoryDelivery struct {
	ID           int64      `json:"id"`
	CampaignID   int64      `json:"campaign_id"`
	CampaignName string     `json:"campaign_name"`
	Step         string     `json:"step"`
	Status       string     `json:"status"`
	LastError    string     `json:"last_error,omitempty"`
	QueuedAt     time.Time  `json:"queued_at"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	FirstOpenAt  *time.Time `json:"first_open_at,omitempty"`
	FirstClickAt *time.Time `json:"first_click_at,omitempty"`
}

// HistoryEvent is one tracked event of the contact's deliveries.
type HistoryEvent struct {
	ID           int64     `json:"id"`
	CampaignID   int64     `json:"campaign_id"`
	CampaignName string    `json:"campaign_name"`
	Type         string    `json:"type"`
	URL          string    `json:"url,omitempty"` // the clicked link
	Value        float64   `json:"value,omitempty"`
	Machine      bool      `json:"machine"`
	Reason       string    `json:"reason,omitempty"`
	OccurredAt   time.Time `json:"occurred_at"`
}

// HistoryTransaction is a purchase or custom event posted for the contact.
type HistoryTransaction struct {
	ID           int64     `json:"id"`
	Type         string    `json:"type"`
	Value        float64   `json:"value"`
	Currency     string    `json:"currency"`
	CampaignID   *int64    `json:"campaign_id,omitempty"`
	CampaignName string    `json:"campaign_name,omitempty"`
	OccurredAt   time.Time `json:"occurred_at"`
}

// RecentHistory reads up to limit of each kind of a contact's history,
// newest first. Events are found through the contact's deliveries (indexed
// on both sides) rather than events.contact_id, which has no index.
func RecentHistory(ctx context.Context, db DBTX, id int64, limit int) (History, error) {
	var h History
	var err error
	h.Deliveries, err = historyRows(ctx, db, query("history_deliveries"), id, limit,
		func(r pgx.Rows) (HistoryDelivery, error) {
			var d HistoryDelivery
			err := r.Scan(&d.ID, &d.CampaignID, &d.CampaignName, &d.Step, &d.Status, &d.LastError,
				&d.QueuedAt, &d.SentAt, &d.FirstOpenAt, &d.FirstClickAt)
			return d, err
		})
	if err != nil {
		return History{}, fmt.Errorf("contact %d deliveries: %w", id, err)
	}
	h.Events, err = historyRows(ctx, db, query("history_events"), id, limit,
		func(r pgx.Rows) (HistoryEvent, error) {
			var e HistoryEvent
			err := r.Scan(&e.ID, &e.CampaignID, &e.CampaignName, &e.Type, &e.URL, &e.Value, &e.Machine, &e.Reason, &e.OccurredAt)
			return e, err
		})
	if err != nil {
		return History{}, fmt.Errorf("contact %d events: %w", id, err)
	}
	h.Transactions, err = historyRows(ctx, db, query("history_transactions"), id, limit,
		func(r pgx.Rows) (HistoryTransaction, error) {
			var t HistoryTransaction
			err := r.Scan(&t.ID, &t.Type, &t.Value, &t.Currency, &t.CampaignID, &t.CampaignName, &t.OccurredAt)
			return t, err
		})
	if err != nil {
		return History{}, fmt.Errorf("contact %d transactions: %w", id, err)
	}
	return h, nil
}

func historyRows[T any](ctx context.Context, db DBTX, sql string, id int64, limit int, scan func(pgx.Rows) (T, error)) ([]T, error) {
	rows, err := db.Query(ctx, sql, id, limit)
	if err != nil {
		return nil, err
	}
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
