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
	h.Deliveries, err = historyRows(ctx, db, `SELECT d.id, d.campaign_id, c.name, d.step, d.status, d.last_error,
			d.queued_at, d.sent_at, d.first_open_at, d.first_click_at
		FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE d.contact_id = $1 ORDER BY d.id DESC LIMIT $2`, id, limit,
		func(r pgx.Rows) (HistoryDelivery, error) {
			var d HistoryDelivery
			err := r.Scan(&d.ID, &d.CampaignID, &d.CampaignName, &d.Step, &d.Status, &d.LastError,
				&d.QueuedAt, &d.SentAt, &d.FirstOpenAt, &d.FirstClickAt)
			return d, err
		})
	if err != nil {
		return History{}, fmt.Errorf("contact %d deliveries: %w", id, err)
	}
	h.Events, err = historyRows(ctx, db, `SELECT e.id, e.campaign_id, c.name, e.type, coalesce(l.url, ''),
			e.value::float8, e.machine, e.reason, e.occurred_at
		FROM deliveries d
		JOIN events e ON e.delivery_id = d.id
		JOIN campaigns c ON c.id = e.campaign_id
		LEFT JOIN campaign_links l ON l.campaign_id = e.campaign_id AND l.step = e.step AND l.idx = e.link_idx
		WHERE d.contact_id = $1 ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2`, id, limit,
		func(r pgx.Rows) (HistoryEvent, error) {
			var e HistoryEvent
			err := r.Scan(&e.ID, &e.CampaignID, &e.CampaignName, &e.Type, &e.URL, &e.Value, &e.Machine, &e.Reason, &e.OccurredAt)
			return e, err
		})
	if err != nil {
		return History{}, fmt.Errorf("contact %d events: %w", id, err)
	}
	h.Transactions, err = historyRows(ctx, db, `SELECT t.id, t.type, t.value::float8, t.currency, t.campaign_id,
			coalesce(c.name, ''), t.occurred_at
		FROM transactions t LEFT JOIN campaigns c ON c.id = t.campaign_id
		WHERE t.contact_id = $1 ORDER BY t.occurred_at DESC, t.id DESC LIMIT $2`, id, limit,
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
