package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
)

// Empty reports an error unless the database holds no contact and no
// campaign: the demo adds sample data and launches a campaign, which must
// never happen to a real audience by accident.
func Empty(ctx context.Context, pool *pgxpool.Pool) error {
	var contacts, campaigns bool
	err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts), EXISTS (SELECT 1 FROM campaigns)`).Scan(&contacts, &campaigns)
	if err != nil {
		return fmt.Errorf("demo: check the database is empty: %w", err)
	}
	if contacts || campaigns {
		return errs.New(errs.Conflict, "the database already holds contacts or campaigns; the demo adds a sample audience "+
			"and sends a campaign to it, so it runs only on an empty database (use a fresh PEYKAR_DATA_DIR or DATABASE_URL, "+
			"or pass --force to add the demo data anyway)")
	}
	return nil
}

// Audience is what LoadAudience stored.
type Audience struct {
	Contacts  int // contacts inserted (existing addresses are skipped)
	Purchases int // past purchases inserted
}

// LoadAudience bulk-loads n generated contacts (one INSERT that skips
// addresses already present) and their purchase history (COPY into
// transactions), through package contacts which owns both tables, then
// brings the contacts' stats
// (conversions, revenue, last_purchase_at) up to date, all in one
// transaction. run is put in every address so separate runs do not collide.
func LoadAudience(ctx context.Context, pool *pgxpool.Pool, r *rand.Rand, n int, run string, now time.Time) (Audience, error) {
	var out Audience
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		people := make([]contacts.NewContact, n)
		for i := range people {
			p := newPerson(r, i, run, now)
			at := p.Consent.At
			people[i] = contacts.NewContact{Email: p.Email, Name: p.Name, Attributes: p.Attributes, Tags: p.Tags,
				ConsentSource: p.Consent.Source, ConsentAt: &at, ConsentIP: p.Consent.IP, CreatedAt: p.CreatedAt}
		}
		buyers, err := contacts.BulkInsert(ctx, tx, people, "lifecycle_stage")
		if err != nil {
			return err
		}
		out.Contacts = len(buyers)
		ids := make([]int64, 0, len(buyers))
		k, left := 0, 0
		var cur contacts.Inserted
		_, err = contacts.CopyTransactions(ctx, tx, pgx.CopyFromFunc(func() ([]any, error) {
			for left == 0 {
				if k >= len(buyers) {
					return nil, nil
				}
				cur = buyers[k]
				k++
				left = purchasesFor(r, cur.Attr)
				if left > 0 {
					ids = append(ids, cur.ID)
				}
			}
			left--
			at := purchaseTime(r, cur.CreatedAt, now)
			if cur.Attr == "churned" { // nothing in the last six months
				at = purchaseTime(r, cur.CreatedAt, now.Add(-180*24*time.Hour))
			}
			out.Purchases++
			return []any{cur.ID, "purchase", purchaseValue(r, at), "EUR",
				map[string]any{"source": "demo", "channel": pick(r, []string{"web", "app", "store"})}, at, at}, nil
		}))
		if err != nil {
			return err
		}
		return contacts.RefreshPurchaseStats(ctx, tx, ids)
	})
	if err != nil {
		return Audience{}, fmt.Errorf("demo: load audience: %w", err)
	}
	return out, nil
}
