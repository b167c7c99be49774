package analytics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// Reads picks the database for a read that may lag (the analytics pages'
// numbers): a streaming replica while it is close enough, else the
// primary. asOf is when the replica's data is as of; zero for the primary.
type Reads interface {
	Read(ctx context.Context) (db *pgxpool.Pool, asOf time.Time)
}

// db is the database for c's read (Deps.Reads, else Pool); a replica's
// answer says its data's age in Peykar-Data-Age.
func (h handlers) db(c echo.Context) *pgxpool.Pool {
	if h.Reads == nil {
		return h.Pool
	}
	db, asOf := h.Reads.Read(c.Request().Context())
	httpapi.SetDataAge(c, asOf, time.Now())
	return db
}
