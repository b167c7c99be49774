package segments

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Reads picks the database for a read that may lag (segment counts and
// previews): a streaming replica while it is close enough, else the
// primary. asOf is when the replica's data is as of; zero for the primary.
type Reads interface {
	Read(ctx context.Context) (db *pgxpool.Pool, asOf time.Time)
}

// readDB is the database for c's counts (Deps.Reads, else Pool); a
// replica's answer says its data's age in Peykar-Data-Age.
func (h *handlers) readDB(c echo.Context) *pgxpool.Pool {
	if h.deps.Reads == nil {
		return h.deps.Pool
	}
	db, asOf := h.deps.Reads.Read(c.Request().Context())
	httpapi.SetDataAge(c, asOf, time.Now())
	return db
}

// compileForRead compiles stored segment id for a count on c's read
// database. A segment the replica does not have yet (saved a moment ago)
// is read, and counted, on the primary.
func (h *handlers) compileForRead(c echo.Context, id int64) (DBTX, *Compiled, error) {
	ctx := c.Request().Context()
	db := h.readDB(c)
	compiled, err := CompileStored(ctx, db, id)
	if err != nil && errs.Is(err, errs.NotFound) && db != h.deps.Pool {
		c.Response().Header().Del(httpapi.DataAgeHeader)
		compiled, err = CompileStored(ctx, h.deps.Pool, id)
		return h.deps.Pool, compiled, err
	}
	return db, compiled, err
}
