package segments

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	ctx  context.Context
	pool *pgxpool.Pool
}

func setup(t *testing.T) bundle {
	t.Helper()
	return bundle{ctx: context.Background(), pool: pgtest.NewPool(t)}
}

// mustCreate inserts a contact and returns its id.
func (b bundle) mustCreate(t *testing.T, in contacts.ContactInput) int64 {
	t.Helper()
	c, err := contacts.Create(b.ctx, b.pool, in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Email, err)
	}
	return c.ID
}
