package web

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns"
)

// readDB is the database for a page's read that may lag (analytics, the
// standard report, segment counts, the dashboard's whole-table numbers):
// Deps.Reads (a replica while it is close enough), else Pool.
func (u *UI) readDB(ctx context.Context) *pgxpool.Pool {
	if u.Reads == nil {
		return u.Pool
	}
	db, _ := u.Reads.Read(ctx)
	return db
}

// dataAge is how old a replica-served report's data may be, for the
// pages' "as of N s ago".
type dataAge struct{ Seconds int64 }

// dataAgeOf is r's data age, or nil when r was read from the primary.
func dataAgeOf(r campaigns.Report) *dataAge {
	if r.AsOf == nil {
		return nil
	}
	return &dataAge{Seconds: int64(max(0, time.Since(*r.AsOf)) / time.Second)}
}
