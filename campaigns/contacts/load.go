package contacts

import (
	"context"
	"fmt"
	"time"
)

// TransactionRow is one stored transaction for InsertTransactions, as
// given: no validation, no attribution beyond CampaignID, no change to the
// contact's stats or the campaign's counters. An empty Type stores "purchase"; a nil Attributes
// stores {}.
type TransactionRow struct {
	ContactID  int64
	Type       string
	Value      float64
	Currency   string
	CampaignID *int64 // the campaign it is attributed to, if any
	Attributes map[string]any
	OccurredAt time.Time
}

// InsertTransactions stores rows in one statement and returns their ids in
// order. It is for loaders of history (fixtures, demo and benchmark data)
// whose rows carry their own dates; posted transactions go through
// RecordEvent, which validates, attributes and counts them.
func InsertTransactions(ctx context.Context, db DBTX, rows []TransactionRow) ([]int64, error) {
	n := len(rows)
	contactIDs, types, values, currencies := make([]int64, n), make([]string, n), make([]float64, n), make([]string, n)
	campaignIDs, attrs, occurred := make([]*int64, n), make([]map[string]any, n), make([]time.Time, n)
	for i, r := range rows {
		contactIDs[i], types[i], values[i], currencies[i] = r.ContactID, r.Type, r.Value, r.Currency
		campaignIDs[i], attrs[i], occurred[i] = r.CampaignID, r.Attributes, r.OccurredAt
		if types[i] == "" {
			types[i] = "purchase"
		}
		if attrs[i] == nil {
			attrs[i] = map[string]any{}
		}
	}
	q, err := db.Query(ctx, query("insert_transactions_as_given"), contactIDs, types, values, currencies, campaignIDs, attrs, occurred)
	if err != nil {
		return nil, fmt.Errorf("insert transactions: %w", err)
	}
	defer q.Close()
	ids := make([]int64, 0, n)
	for q.Next() {
		var id int64
		if err := q.Scan(&id); err != nil {
			return nil, fmt.Errorf("insert transactions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("insert transactions: %w", err)
	}
	return ids, nil
}

// Backdate sets when contact id was created to at (updated_at is left as it is): for
// loaders of history (fixtures, demo and benchmark data) whose contacts
// joined before the load.
func Backdate(ctx context.Context, db DBTX, id int64, at time.Time) error {
	tag, err := db.Exec(ctx, query("backdate_contact"), id, at)
	if err != nil {
		return fmt.Errorf("backdate contact: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("backdate contact %d: no such contact", id)
	}
	return nil
}
