package campaigns

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/reports"
)

// reportRoutes mounts package reports (stream, pages, exports, standard
// reports) on api, fed by s.Report.
func (s *Service) reportRoutes(api *echo.Group) {
	h, err := reports.New(reports.Config{
		Pool:   s.Pool,
		Logger: s.Logger,
		Report: func(ctx context.Context, id int64) (any, error) { return s.Report(ctx, id) },
	})
	if err != nil {
		panic(err) // only a nil pool: a wiring mistake caught at start-up
	}
	h.Routes(api)
}
