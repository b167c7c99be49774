package reports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/migrations/pgtest"
)

// TestStandardDefaultRangeUsesClock: without dates the standard report
// covers the 30 days up to the handler's clock, not the machine's.
func TestStandardDefaultRangeUsesClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 15, 23, 30, 0, 0, time.FixedZone("east", 5*3600)) // 18:30 UTC
	h, err := reports.New(reports.Config{
		Pool:   pgtest.NewPool(t),
		Report: func(context.Context, int64) (campaigns.Report, error) { return campaigns.Report{}, nil },
		Now:    func() time.Time { return now },
	})
	require.NoError(t, err)
	e := echo.New()
	e.GET("/reports/standard", h.Standard)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/reports/standard", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got reports.Standard
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, "2024-02-15", got.From)
	require.Equal(t, "2024-03-15", got.To)
	require.Len(t, got.Days, 30)
}
