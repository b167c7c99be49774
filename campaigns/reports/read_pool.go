package reports

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// readDB is the database for c's read (Config.Reads, else Pool); when it
// is a replica, the answer's Peykar-Data-Age header says how old its data
// may be. Call it before the answer's body is written.
func (h *Handler) readDB(c echo.Context) *pgxpool.Pool {
	if h.cfg.Reads == nil {
		return h.cfg.Pool
	}
	db, asOf := h.cfg.Reads.Read(c.Request().Context())
	httpapi.SetDataAge(c, asOf, h.cfg.Now())
	return db
}
