package contacts

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// createBulk validates a bulk action (its segment exists, its rule
// compiles) and stores the job with its River job in one transaction: 202
// {"id":N}.
func (h *handlers) createBulk(c echo.Context) error {
	ctx := c.Request().Context()
	if h.deps.River == nil {
		return errs.New(errs.Unavailable, "bulk actions are not available: no job queue")
	}
	var in BulkInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	if err := in.normalize(); err != nil {
		return err
	}
	if err := in.checkTopic(ctx, h.deps.Pool); err != nil {
		return err
	}
	in.Source = h.actor(c)
	if in.Filter != nil && in.Filter.SegmentID > 0 {
		if h.deps.Segments == nil {
			return errs.Field("filter.segment_id", "segments are not available here")
		}
		if _, err := h.deps.Segments(ctx, h.deps.Pool, in.Filter.SegmentID); err != nil {
			if errs.Is(err, errs.NotFound) {
				return errs.Field("filter.segment_id", "no such segment")
			}
			return err
		}
	}
	if in.Rule != "" {
		if h.deps.Rules == nil {
			return errs.Field("rule", "rules are not available here")
		}
		if _, err := h.deps.Rules(in.Rule); err != nil {
			return err
		}
	}
	if in.Action == BulkErase && h.deps.Events == nil {
		return errs.New(errs.Unavailable, "erasure is not available here")
	}
	var id int64
	err := pgx.BeginFunc(ctx, h.deps.Pool, func(tx pgx.Tx) error {
		var err error
		if id, err = insertBulkJob(ctx, tx, in); err != nil {
			return err
		}
		if _, err := h.deps.River.InsertTx(ctx, tx, BulkArgs{BulkID: id}, nil); err != nil {
			return fmt.Errorf("enqueue bulk job: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int64{"id": id})
}

func (h *handlers) getBulk(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	j, err := GetBulkJob(c.Request().Context(), h.deps.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// bulkExport streams a finished export's CSV; ?bom=1 puts a UTF-8 byte
// order mark first so spreadsheet tools read Persian text right.
func (h *handlers) bulkExport(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	j, err := GetBulkJob(ctx, h.deps.Pool, id)
	if err != nil {
		return err
	}
	if j.Download == "" {
		// Not an export, not finished or expired: WriteBulkExport says which.
		return WriteBulkExport(ctx, h.deps.Pool, id, func([]byte) error { return nil })
	}
	resp := c.Response()
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	resp.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=\"contacts-%d.csv\"", id))
	started := false
	return WriteBulkExport(ctx, h.deps.Pool, id, func(b []byte) error {
		if !started {
			started = true
			resp.WriteHeader(http.StatusOK)
			if c.QueryParam("bom") == "1" {
				if _, err := resp.Write([]byte("\uFEFF")); err != nil {
					return err
				}
			}
		}
		_, err := resp.Write(b)
		return err
	})
}
