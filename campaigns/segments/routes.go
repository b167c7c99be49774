package segments

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// Deps are what the handlers need.
type Deps struct {
	Pool *pgxpool.Pool
	// Counts caches the list's counts; nil: a cache of the handlers' own.
	Counts *Counts
	// Reads routes counts and previews to a replica when one is close
	// enough; nil reads Pool.
	Reads Reads
}

// Routes registers the segment endpoints on api (/api/v1): create, list,
// get, update, delete, count, preview, archive and unarchive, and the
// segment builder's fields and its conversions between a tree and a rule.
func Routes(api *echo.Group, deps Deps) {
	if deps.Counts == nil {
		deps.Counts = &Counts{}
	}
	h := &handlers{deps: deps}
	api.POST("/segments", h.createSegment)
	api.GET("/segments", h.listSegments)
	api.POST("/segments/preview", h.previewSegment)
	api.GET("/segments/:id", h.getSegment)
	api.PUT("/segments/:id", h.updateSegment)
	api.DELETE("/segments/:id", h.deleteSegment)
	api.GET("/segments/:id/count", h.countSegment)
	api.POST("/segments/:id/archive", h.archiveSegment(true))
	api.POST("/segments/:id/unarchive", h.archiveSegment(false))
	api.GET("/segments/builder/fields", h.builderFields)
	api.POST("/segments/builder/rule", h.builderRule)
	api.POST("/segments/builder/tree", h.builderTree)
}

type handlers struct{ deps Deps }

// after reads the ?after= cursor (an id; empty means from the start).
func after(c echo.Context) (int64, error) {
	s := c.QueryParam("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Field("after", "must be a cursor from a previous page")
	}
	return n, nil
}

// Archived reads ?archived=true|false (default false): whether a list
// includes archived items.
func Archived(c echo.Context) (bool, error) {
	switch strings.ToLower(c.QueryParam("archived")) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errs.Field("archived", "must be true or false")
}
