package contacts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewContact is one contact for BulkInsert, already valid and normalised
// (BulkInsert does not check addresses: it is for generated audiences).
type NewContact struct {
	Email         string
	Name          string
	Attributes    map[string]any
	Tags          []string
	ConsentSource string
	ConsentAt     *time.Time
	ConsentIP     netip.Addr // the zero Addr stores NULL
	CreatedAt     time.Time
}

// Inserted is a contact BulkInsert created.
type Inserted struct {
	ID        int64
	Attr      string // the attribute BulkInsert was asked for, "" when absent
	CreatedAt time.Time
}

// BulkInsert creates cs as active contacts in one statement, skipping
// emails already known, and returns the new ones with their attribute
// attr.
func BulkInsert(ctx context.Context, db DBTX, cs []NewContact, attr string) ([]Inserted, error) {
	n := len(cs)
	emails, names, attrs, tags := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sources, ips := make([]string, n), make([]string, n)
	consentAt, created := make([]*time.Time, n), make([]time.Time, n)
	for i, c := range cs {
		a, err := json.Marshal(orEmpty(c.Attributes))
		if err != nil {
			return nil, fmt.Errorf("bulk insert contacts: %w", err)
		}
		tg, err := json.Marshal(orNone(c.Tags))
		if err != nil {
			return nil, fmt.Errorf("bulk insert contacts: %w", err)
		}
		emails[i], names[i], attrs[i], tags[i] = c.Email, c.Name, string(a), string(tg)
		sources[i], consentAt[i], created[i] = c.ConsentSource, c.ConsentAt, c.CreatedAt
		if c.ConsentIP.IsValid() {
			ips[i] = c.ConsentIP.String()
		}
	}
	rows, err := db.Query(ctx, query("bulk_insert_contacts"), emails, names, attrs, tags, sources, consentAt, ips, created, attr)
	if err != nil {
		return nil, fmt.Errorf("bulk insert contacts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Inserted, error) {
		var in Inserted
		return in, row.Scan(&in.ID, &in.Attr, &in.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("bulk insert contacts: %w", err)
	}
	return out, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TransactionColumns are the columns, in order, of the rows CopyTransactions
// takes.
var TransactionColumns = []string{"contact_id", "type", "value", "currency", "attributes", "occurred_at", "created_at"}

// CopyTransactions stores the rows of src (TransactionColumns) with COPY and
// returns how many it stored. It does not touch the contacts' stats: call
// RefreshPurchaseStats for the contacts concerned.
func CopyTransactions(ctx context.Context, db DBTX, src pgx.CopyFromSource) (int64, error) {
	n, err := db.CopyFrom(ctx, pgx.Identifier{"transactions"}, TransactionColumns, src)
	if err != nil {
		return 0, fmt.Errorf("copy transactions: %w", err)
	}
	return n, nil
}

// RefreshPurchaseStats adds the purchases of ids to their contacts' stats
// (conversions, revenue, last_purchase_at): after CopyTransactions, for
// contacts that had no purchase before.
func RefreshPurchaseStats(ctx context.Context, db DBTX, ids []int64) error {
	if _, err := db.Exec(ctx, query("refresh_purchase_stats"), ids); err != nil {
		return fmt.Errorf("refresh purchase stats: %w", err)
	}
	return nil
}
