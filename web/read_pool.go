package web

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
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
