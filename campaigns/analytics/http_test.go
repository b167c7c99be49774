package analytics

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/httpapi"
)

func serve(t *testing.T, f *fixture) *httptest.Server {
	t.Helper()
	client, err := river.NewClient[pgx.Tx](riverpgxv5.New(f.pool), &river.Config{})
	require.NoError(t, err)
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.DiscardHandler))
	Routes(e.Group("/api/v1"), Deps{Pool: f.pool, River: client})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, out any) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	if out != nil && res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	} else if s, ok := out.(*string); ok {
		b, _ := io.ReadAll(res.Body)
		*s = string(b)
	}
	return res
}

func TestAPI(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.plantResponses(500, 4, "CASE WHEN c.id % 5 = 0 THEN 0.4 ELSE 0.05 END")
	// Buyers: every fourth contact, with more purchases for lower ids.
	// Raw on purpose: set-based purchases over the planted contacts.
	_, err := f.pool.Exec(f.ctx, `INSERT INTO transactions (contact_id, type, value, occurred_at)
		SELECT c.id, 'purchase', 10 + c.id % 50, $1::timestamptz - make_interval(days => (c.id::int * 7 + n * 13) % 200)
		FROM contacts c, generate_series(1, 3) n WHERE c.id % 4 = 0 AND n <= 1 + c.id % 3`, now)
	require.NoError(t, err)
	// Raw on purpose: only the name changes (contacts.Update replaces the profile).
	_, err = f.pool.Exec(f.ctx, `UPDATE contacts SET name = '=cmd' WHERE id = 4`)
	require.NoError(t, err)
	res, err := Recompute(f.ctx, f.pool, Config{Now: now, Clusters: 3}, nil)
	require.NoError(t, err)
	require.Len(t, res.Steps, 5)
	srv := serve(t, f)
	base := srv.URL + "/api/v1"

	var sum Summary
	require.Equal(t, 200, get(t, base+"/analytics/summary?limit=5", &sum).StatusCode)
	require.EqualValues(t, 500, sum.Contacts)
	require.EqualValues(t, 125, sum.MostValuable.Count)
	require.Len(t, sum.MostValuable.Items, 5)
	require.GreaterOrEqual(t, sum.MostValuable.Items[0].Value, sum.MostValuable.Items[4].Value)
	require.NotEmpty(t, sum.LikelyResponders.Items)
	require.Contains(t, sum.LikelyResponders.Rule, "response.likelihood ")
	require.NotZero(t, sum.Loyal.Count+sum.ChurnRisk.Count)

	var grid RFMGrid
	require.Equal(t, 200, get(t, base+"/analytics/rfm", &grid).StatusCode)
	require.Len(t, grid.Cells, 25)
	require.EqualValues(t, 375, grid.NoPurchase)
	var total int64
	for _, c := range grid.Cells {
		total += c.Count
	}
	require.EqualValues(t, 125, total)
	require.Len(t, grid.Segments, len(Segments))

	var churn httpapi.List[ScoredContact]
	require.Equal(t, 200, get(t, base+"/analytics/churn?limit=7", &churn).StatusCode)
	require.Len(t, churn.Items, 7)
	require.GreaterOrEqual(t, churn.Items[0].ValueAtRisk, churn.Items[6].ValueAtRisk)
	var body string
	r := get(t, base+"/analytics/churn?format=csv", &body)
	require.Equal(t, 200, r.StatusCode)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 126)
	require.Equal(t, "contact_id", recs[0][0])
	require.Contains(t, body, ",'=cmd,")

	var resp map[string]any
	require.Equal(t, 200, get(t, base+"/analytics/response", &resp).StatusCode)
	models := resp["models"].([]any)
	require.Len(t, models, 1)
	ev := models[0].(map[string]any)["evaluation"].(map[string]any)
	require.Greater(t, ev["auc"].(float64), 0.5)

	var cl httpapi.List[Cluster]
	require.Equal(t, 200, get(t, base+"/analytics/clusters", &cl).StatusCode)
	require.Len(t, cl.Items, 3)
	require.NotEmpty(t, cl.Items[0].Description)
	require.Equal(t, 200, get(t, base+"/analytics/clusters?format=csv", &body).StatusCode)
	require.Equal(t, 4, strings.Count(body, "\n"))

	var an httpapi.List[Anomaly]
	require.Equal(t, 200, get(t, base+"/analytics/anomalies", &an).StatusCode)
	require.Empty(t, an.Items)
	require.Equal(t, 200, get(t, base+"/campaigns/1/anomalies", &an).StatusCode)
	require.Equal(t, 404, get(t, base+"/campaigns/999/anomalies", nil).StatusCode)
	require.Equal(t, 422, get(t, base+"/analytics/churn?limit=x", nil).StatusCode)

	post := func() map[string]any {
		res, err := http.Post(base+"/analytics/recompute", "application/json", nil)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return out
	}
	first := post()
	require.Equal(t, false, first["already_queued"])
	second := post()
	require.Equal(t, true, second["already_queued"])
	require.Equal(t, first["job_id"], second["job_id"])
}

func TestRecomputeWorker(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.contact()
	f.purchases(id, 10, 1, 2)
	w := &RecomputeWorker{Pool: f.pool, Logger: slog.New(slog.DiscardHandler)}
	require.NoError(t, w.Work(f.ctx, &river.Job[RecomputeArgs]{}))
	s := f.score(id)
	require.Equal(t, 2, s.Purchases)
	require.Equal(t, SegmentLost, s.Segment, "a lone buyer ranks first and last: ntile(5) gives it 1")
	require.Equal(t, 1, s.Cluster)
	require.NotNil(t, PeriodicRecompute())
}
