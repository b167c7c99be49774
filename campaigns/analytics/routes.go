package analytics

import (
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// Deps is what the analytics handlers need.
type Deps struct {
	Pool *pgxpool.Pool
	// River enqueues on-demand recomputes.
	River  *river.Client[pgx.Tx]
	Logger *slog.Logger
	// Reads routes the GETs to a replica when one is close enough; nil
	// reads Pool.
	Reads Reads
}

// Routes registers the analytics API on the /api/v1 group. Every GET is
// read-only; POST /analytics/recompute only enqueues the job.
func Routes(api *echo.Group, d Deps) {
	h := handlers{d}
	api.POST("/analytics/recompute", h.recompute)
	api.GET("/analytics/summary", h.summary)
	api.GET("/analytics/rfm", h.rfm)
	api.GET("/analytics/churn", h.churn)
	api.GET("/analytics/response", h.response)
	api.GET("/analytics/clusters", h.clusters)
	api.GET("/analytics/anomalies", h.anomalies)
	api.GET("/campaigns/:id/anomalies", h.campaignAnomalies)
}

type handlers struct{ Deps }

func (h handlers) recompute(c echo.Context) error {
	if h.River == nil {
		return errs.New(errs.Unavailable, "the job queue is not running")
	}
	res, err := h.River.Insert(c.Request().Context(), RecomputeArgs{}, nil)
	if err != nil {
		return fmt.Errorf("analytics: enqueue recompute: %w", err)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"job_id": res.Job.ID, "already_queued": res.UniqueSkippedAsDuplicate})
}

func (h handlers) summary(c echo.Context) error {
	limit, err := httpapi.Limit(c, 10, 100)
	if err != nil {
		return err
	}
	s, err := GetSummary(c.Request().Context(), h.db(c), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h handlers) rfm(c echo.Context) error {
	g, err := GetRFMGrid(c.Request().Context(), h.db(c))
	if err != nil {
		return err
	}
	if wantCSV(c) {
		return streamCSV(c, "rfm.csv", []string{"recency", "frequency", "count", "value"}, func(w *csv.Writer) error {
			for _, cell := range g.Cells {
				if err := w.Write([]string{itoa(cell.Recency), itoa(cell.Frequency), strconv.FormatInt(cell.Count, 10), ftoa(cell.Value)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return c.JSON(http.StatusOK, g)
}

func (h handlers) churn(c echo.Context) error {
	ctx := c.Request().Context()
	if wantCSV(c) {
		limit := 0
		if c.QueryParam("limit") != "" {
			var err error
			if limit, err = httpapi.Limit(c, 0, 1<<31-1); err != nil {
				return err
			}
		}
		header := []string{"contact_id", "email", "name", "churn_risk", "value", "value_at_risk", "rfm_segment", "purchases", "revenue", "last_activity_at"}
		db := h.db(c) // before the body: the data-age header goes out with it
		return streamCSV(c, "churn.csv", header, func(w *csv.Writer) error {
			n := 0
			return ChurnRows(ctx, db, limit, func(x ScoredContact) error {
				last := ""
				if x.LastActivityAt != nil {
					last = x.LastActivityAt.UTC().Format("2006-01-02T15:04:05Z")
				}
				if n++; n%1000 == 0 {
					w.Flush()
					c.Response().Flush()
				}
				return w.Write([]string{strconv.FormatInt(x.ContactID, 10), cell(x.Email), cell(x.Name), ftoa(x.ChurnRisk), ftoa(x.Value),
					ftoa(x.ValueAtRisk), x.RFMSegment, itoa(x.Purchases), ftoa(x.Revenue), last})
			})
		})
	}
	limit, err := httpapi.Limit(c, 50, 1000)
	if err != nil {
		return err
	}
	items := []ScoredContact{}
	if err := ChurnRows(ctx, h.db(c), limit, func(x ScoredContact) error { items = append(items, x); return nil }); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, httpapi.List[ScoredContact]{Items: items})
}

func (h handlers) response(c echo.Context) error {
	models, err := ListModels(c.Request().Context(), h.db(c))
	if err != nil {
		return err
	}
	out := map[string]any{"models": models, "scored_channel": ScoredChannel}
	for _, p := range []float64{10, 20, 50} {
		v, err := TopResponders(c.Request().Context(), h.db(c), p)
		if err != nil {
			return err
		}
		out[fmt.Sprintf("top_%g_percent_min_score", p)] = v
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) clusters(c echo.Context) error {
	cl, err := ListClusters(c.Request().Context(), h.db(c))
	if err != nil {
		return err
	}
	if wantCSV(c) {
		header := append([]string{"id", "description", "size"}, Features...)
		return streamCSV(c, "clusters.csv", header, func(w *csv.Writer) error {
			for _, k := range cl {
				rec := []string{itoa(k.ID), k.Description, strconv.FormatInt(k.Size, 10)}
				for _, f := range Features {
					rec = append(rec, ftoa(k.Centroid[f]))
				}
				if err := w.Write(rec); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return c.JSON(http.StatusOK, httpapi.List[Cluster]{Items: cl})
}

func (h handlers) anomalies(c echo.Context) error { return h.listAnomalies(c, 0) }

func (h handlers) campaignAnomalies(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	return h.listAnomalies(c, id)
}

func (h handlers) listAnomalies(c echo.Context, campaignID int64) error {
	items, err := ListAnomalies(c.Request().Context(), h.db(c), campaignID)
	if err != nil {
		return err
	}
	if wantCSV(c) {
		return streamCSV(c, "anomalies.csv", []string{"campaign_id", "metric", "value", "mean", "stddev", "z", "history"}, func(w *csv.Writer) error {
			for _, a := range items {
				if err := w.Write([]string{strconv.FormatInt(a.CampaignID, 10), a.Metric, ftoa(a.Value), ftoa(a.Mean), ftoa(a.Stddev), ftoa(a.Z), itoa(a.History)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return c.JSON(http.StatusOK, httpapi.List[Anomaly]{Items: items})
}

func wantCSV(c echo.Context) bool { return c.QueryParam("format") == "csv" }

// streamCSV answers with a CSV attachment written row by row by fill;
// ?bom=1 puts a UTF-8 byte order mark first, so spreadsheet tools (Excel)
// read Persian text as UTF-8. Once the header is out, a failure can only
// cut the stream short; it is logged by the caller's error path.
func streamCSV(c echo.Context, name string, header []string, fill func(*csv.Writer) error) error {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	res.WriteHeader(http.StatusOK)
	if c.QueryParam("bom") == "1" {
		if _, err := res.Write([]byte("\uFEFF")); err != nil {
			return err
		}
	}
	w := csv.NewWriter(res)
	if err := w.Write(header); err != nil {
		return err
	}
	if err := fill(w); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// cell keeps a text cell from being read as a formula by a spreadsheet.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
