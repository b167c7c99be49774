package factory

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TransactionOption sets a field of the transaction Transaction stores.
type TransactionOption func(*contacts.TransactionRow)

// Type sets the transaction's type (default: "purchase").
func Type(typ string) TransactionOption {
	return func(r *contacts.TransactionRow) { r.Type = typ }
}

// Value sets the transaction's value (default: 0).
func Value(v float64) TransactionOption {
	return func(r *contacts.TransactionRow) { r.Value = v }
}

// Currency sets the transaction's currency, stored as given (default:
// empty, the operator's reporting currency).
func Currency(code string) TransactionOption {
	return func(r *contacts.TransactionRow) { r.Currency = code }
}

// OccurredAt sets when the transaction happened (default: now).
func OccurredAt(at time.Time) TransactionOption {
	return func(r *contacts.TransactionRow) { r.OccurredAt = at }
}

// Campaign stores the transaction as attributed to campaign id (default:
// none). Only the column is set: no counter changes, as for a loaded
// history; a test of attribution records it through tracking.
func Campaign(id int64) TransactionOption {
	return func(r *contacts.TransactionRow) { r.CampaignID = &id }
}

// TxAttr sets one attribute of the transaction (default: none).
func TxAttr(key string, value any) TransactionOption {
	return func(r *contacts.TransactionRow) {
		if r.Attributes == nil {
			r.Attributes = map[string]any{}
		}
		r.Attributes[key] = value
	}
}

// Transaction stores one transaction of contactID as given, with
// contacts.InsertTransactions: no attribution to a campaign and no change
// to the contact's stats, as a loaded history. It returns its id.
func Transaction(t testing.TB, db contacts.DBTX, contactID int64, opts ...TransactionOption) int64 {
	t.Helper()
	r := contacts.TransactionRow{ContactID: contactID, OccurredAt: time.Now()}
	for _, o := range opts {
		o(&r)
	}
	ids, err := contacts.InsertTransactions(context.Background(), db, []contacts.TransactionRow{r})
	require.NoError(t, err, "factory: insert transaction")
	return ids[0]
}
