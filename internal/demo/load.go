package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

// LoadAudience bulk-loads n generated contacts (COPY into a temporary table,
// then one INSERT that skips addresses already present) and their purchase
// history (COPY into transactions), then brings the contacts' stats
// (conversions, revenue, last_purchase_at) up to date, all in one
// transaction. run is put in every address so separate runs do not collide.
func LoadAudience(ctx context.Context, pool *pgxpool.Pool, r *rand.Rand, n int, run string, now time.Time) (Audience, error) {
	var out Audience
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE demo_contacts (email text, name text, attributes jsonb, tags text[],
			consent_source text, consent_at timestamptz, consent_ip inet, created_at timestamptz) ON COMMIT DROP`); err != nil {
			return err
		}
		i := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"demo_contacts"},
			[]string{"email", "name", "attributes", "tags", "consent_source", "consent_at", "consent_ip", "created_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i >= n {
					return nil, nil
				}
				p := newPerson(r, i, run, now)
				i++
				return []any{p.Email, p.Name, p.Attributes, p.Tags, p.Consent.Source, p.Consent.At, p.Consent.IP, p.CreatedAt}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy contacts: %w", err)
		}
		rows, err := tx.Query(ctx, `INSERT INTO contacts (email, name, attributes, tags, status, consent_source, consent_at, consent_ip, created_at, updated_at)
			SELECT email, name, attributes, tags, 'active', consent_source, consent_at, consent_ip, created_at, created_at FROM demo_contacts
			ON CONFLICT (email_key) DO NOTHING
			RETURNING id, attributes->>'lifecycle_stage', created_at`)
		if err != nil {
			return fmt.Errorf("insert contacts: %w", err)
		}
		type buyer struct {
			id      int64
			stage   string
			created time.Time
		}
		buyers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (buyer, error) {
			var b buyer
			return b, row.Scan(&b.id, &b.stage, &b.created)
		})
		if err != nil {
			return fmt.Errorf("insert contacts: %w", err)
		}
		out.Contacts = len(buyers)
		ids := make([]int64, 0, len(buyers))
		k, left := 0, 0
		var cur buyer
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"transactions"},
			[]string{"contact_id", "type", "value", "currency", "attributes", "occurred_at", "created_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				for left == 0 {
					if k >= len(buyers) {
						return nil, nil
					}
					cur = buyers[k]
					k++
					left = purchasesFor(r, cur.stage)
					if left > 0 {
						ids = append(ids, cur.id)
					}
				}
				left--
				at := purchaseTime(r, cur.created, now)
				if cur.stage == "churned" { // nothing in the last six months
					at = purchaseTime(r, cur.created, now.Add(-180*24*time.Hour))
				}
				out.Purchases++
				return []any{cur.id, "purchase", purchaseValue(r, at), "EUR",
					map[string]any{"source": "demo", "channel": pick(r, []string{"web", "app", "store"})}, at, at}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy purchases: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE contacts c SET conversions = c.conversions + t.n, revenue = c.revenue + t.total,
				last_purchase_at = GREATEST(c.last_purchase_at, t.last)
			FROM (SELECT contact_id, count(*) AS n, sum(value) AS total, max(occurred_at) AS last
				FROM transactions WHERE contact_id = ANY($1) AND type = 'purchase' GROUP BY contact_id) t
			WHERE c.id = t.contact_id`, ids)
		if err != nil {
			return fmt.Errorf("update contact stats: %w", err)
		}
		return nil
	})
	if err != nil {
		return Audience{}, fmt.Errorf("demo: load audience: %w", err)
	}
	return out, nil
}
