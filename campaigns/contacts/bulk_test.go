package contacts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/factory"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/migrations/pgtest"
)

// bulkAPI is the contacts routes over HTTP with a River client running the
// bulk worker, on a fresh database.
type bulkAPI struct {
	t    *testing.T
	pool *pgxpool.Pool
	url  string
}

func rule(r string) (contacts.SegmentFilter, error) {
	c, err := segments.CompileSegment(r)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// erasedInTx is the tests' EventEraser: these tests hold no events (the
// events' erasure is tracking's test); it checks it runs inside the erasing
// transaction.
var erasedInTx = contacts.EventEraserFunc(func(ctx context.Context, tx pgx.Tx, id int64) error {
	var status string
	if err := tx.QueryRow(ctx, `SELECT status FROM contacts WHERE id = $1`, id).Scan(&status); err != nil {
		return err
	}
	if status != contacts.StatusErased {
		return io.ErrUnexpectedEOF
	}
	return nil
})

func newBulkAPI(t *testing.T) bulkAPI {
	t.Helper()
	pool := pgtest.NewPool(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers := river.NewWorkers()
	river.AddWorker(workers, &contacts.BulkWorker{Pool: pool, Segments: segments.Filter, Rules: rule,
		Events: erasedInTx, BatchSize: 2, Logger: logger})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers: workers, Logger: logger,
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(t.Context()))
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	contacts.Routes(e.Group("/api/v1"), contacts.Deps{Pool: pool, River: client, Logger: logger,
		Segments: segments.Filter, Rules: rule, Events: erasedInTx})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return bulkAPI{t: t, pool: pool, url: srv.URL + "/api/v1"}
}

func (a bulkAPI) do(method, path, body string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.url+path, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	return res.StatusCode, raw
}

// run posts a bulk action and waits (polling with a deadline) until its job
// is no longer queued or running; it returns the job.
func (a bulkAPI) run(body string) map[string]any {
	a.t.Helper()
	code, raw := a.do(http.MethodPost, "/contacts/bulk", body)
	require.Equal(a.t, http.StatusAccepted, code, string(raw))
	var created struct{ ID int64 }
	require.NoError(a.t, json.Unmarshal(raw, &created))
	deadline := time.Now().Add(time.Minute)
	for {
		code, raw := a.do(http.MethodGet, "/bulk/"+strconv.FormatInt(created.ID, 10), "")
		require.Equal(a.t, http.StatusOK, code, string(raw))
		var j map[string]any
		require.NoError(a.t, json.Unmarshal(raw, &j))
		if j["status"] == contacts.BulkFinished || j["status"] == contacts.BulkFailed {
			return j
		}
		require.True(a.t, time.Now().Before(deadline), "bulk job still %v after a minute", j["status"])
		select {
		case <-time.After(20 * time.Millisecond):
		case <-a.t.Context().Done():
		}
	}
}

// emails returns the emails of the contacts a raw condition selects, in id order.
func (a bulkAPI) emails(where string, args ...any) []string {
	a.t.Helper()
	rows, err := a.pool.Query(a.t.Context(), `SELECT email FROM contacts WHERE `+where+` ORDER BY id`, args...)
	require.NoError(a.t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(a.t, err)
	return out
}

func counts(t *testing.T, j map[string]any) [3]float64 {
	t.Helper()
	require.Equal(t, contacts.BulkFinished, j["status"], j)
	return [3]float64{j["total"].(float64), j["done"].(float64), j["failed"].(float64)}
}

// TestBulkEachSelectorAndAction runs every action and every selector kind
// (a stored segment with and without a search, a rule that runs in SQL and
// one that runs in Go, a list of ids) through POST /contacts/bulk and the
// worker, in batches of 2, and checks the rows themselves.
func TestBulkEachSelectorAndAction(t *testing.T) {
	t.Parallel()
	a := newBulkAPI(t)
	for _, c := range []struct{ email, name, city string }{
		{"sara@example.com", "سارا", "Tehran"}, {"ali@example.com", "Ali", "Tehran"}, {"nima@example.com", "Nima", "Shiraz"},
		{"reza@other.test", "Reza", "Tehran"}, {"mina@other.test", "Mina", "Shiraz"},
	} {
		factory.Contact(t, a.pool, factory.Email(c.email), factory.Name(c.name), factory.Attr("city", c.city))
	}
	tehran := factory.Segment(t, a.pool, factory.Rule(`contact.attributes.city == "Tehran"`))
	seg := strconv.FormatInt(tehran.ID, 10)

	// Filter: a segment → tag.
	j := a.run(`{"filter":{"segment_id":` + seg + `},"action":"tag","tag":"vip"}`)
	require.Equal(t, [3]float64{3, 3, 0}, counts(t, j))
	require.Equal(t, []string{"sara@example.com", "ali@example.com", "reza@other.test"}, a.emails(`'vip' = ANY(tags)`))

	// Filter: a segment and a search → untag (the search narrows it).
	j = a.run(`{"filter":{"segment_id":` + seg + `,"q":"other.test"},"action":"untag","tag":"vip"}`)
	require.Equal(t, [3]float64{1, 1, 0}, counts(t, j))
	require.Equal(t, []string{"sara@example.com", "ali@example.com"}, a.emails(`'vip' = ANY(tags)`))

	// A rule that runs in Go (no SQL form) → tag; then one in SQL → suppress.
	j = a.run(`{"rule":"any(contact.tags, {# startsWith \"vi\"})","action":"tag","tag":"was-vip"}`)
	require.Equal(t, [3]float64{2, 2, 0}, counts(t, j))
	require.Equal(t, []string{"sara@example.com", "ali@example.com"}, a.emails(`'was-vip' = ANY(tags)`))
	j = a.run(`{"rule":"contact.attributes.city == \"Shiraz\"","action":"suppress"}`)
	require.Equal(t, [3]float64{2, 2, 0}, counts(t, j))
	require.Equal(t, []string{"nima@example.com", "mina@other.test"}, a.emails(`status = 'unsubscribed'`))

	// Ids (one unknown) → erase.
	var reza int64
	require.NoError(t, a.pool.QueryRow(t.Context(), `SELECT id FROM contacts WHERE email = 'reza@other.test'`).Scan(&reza))
	j = a.run(`{"ids":[` + strconv.FormatInt(reza, 10) + `,999999,` + strconv.FormatInt(reza, 10) + `],"action":"erase"}`)
	require.Equal(t, [3]float64{2, 1, 1}, counts(t, j), "duplicates count once; the unknown id fails")
	require.Equal(t, []string{"erased-" + strconv.FormatInt(reza, 10) + "@erased.invalid"}, a.emails(`status = 'erased'`))

	// A search filter → export, downloaded with a BOM; tagging an erased
	// contact fails it.
	j = a.run(`{"filter":{"q":"example.com"},"action":"export"}`)
	require.Equal(t, [3]float64{3, 3, 0}, counts(t, j))
	code, csv := a.do(http.MethodGet, "/bulk/"+strconv.FormatInt(int64(j["id"].(float64)), 10)+"/export.csv?bom=1", "")
	require.Equal(t, http.StatusOK, code, string(csv))
	require.True(t, bytes.HasPrefix(csv, []byte("\uFEFFid,email,name,status,tags,attributes,created_at\n")), string(csv))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	require.Len(t, lines, 4, "a header and each contact once")
	require.Contains(t, lines[1], "sara@example.com,سارا,active,vip;was-vip,")
	require.Contains(t, lines[3], "nima@example.com,Nima,unsubscribed,,")

	// A day later the export's file is gone (it holds personal data).
	exportID := strconv.FormatInt(int64(j["id"].(float64)), 10)
	n, err := contacts.ExpireBulkExports(t.Context(), a.pool, time.Now().Add(-contacts.ExportRetention))
	require.NoError(t, err)
	require.Zero(t, n, "a fresh export is kept")
	n, err = contacts.ExpireBulkExports(t.Context(), a.pool, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	code, raw := a.do(http.MethodGet, "/bulk/"+exportID, "")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, string(raw), `"download"`)
	require.Contains(t, string(raw), `"expired_at"`)
	code, raw = a.do(http.MethodGet, "/bulk/"+exportID+"/export.csv", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, string(raw), "run the export again")
	var chunks int
	require.NoError(t, a.pool.QueryRow(t.Context(), `SELECT count(*) FROM bulk_export_chunks`).Scan(&chunks))
	require.Zero(t, chunks)

	j = a.run(`{"ids":[` + strconv.FormatInt(reza, 10) + `],"action":"tag","tag":"x"}`)
	require.Equal(t, [3]float64{1, 0, 1}, counts(t, j))
	code, raw = a.do(http.MethodGet, "/bulk/"+strconv.FormatInt(int64(j["id"].(float64)), 10)+"/export.csv", "")
	require.Equal(t, http.StatusNotFound, code, "a tag job has no file: %s", raw)
}

// TestBulkRefusesBadInput: each mistake is named with its field, and
// nothing is queued.
func TestBulkRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newBulkAPI(t)
	for body, field := range map[string]string{
		`{"action":"tag","tag":"vip"}`:                            "filter",
		`{"ids":[1],"rule":"true","action":"tag","tag":"vip"}`:    "filter",
		`{"ids":[1],"action":"tag"}`:                              "tag",
		`{"ids":[1],"action":"suppress","tag":"vip"}`:             "tag",
		`{"ids":[1],"action":"delete"}`:                           "action",
		`{"ids":[],"action":"erase"}`:                             "ids",
		`{"ids":[-1],"action":"erase"}`:                           "ids",
		`{"filter":{"segment_id":424242},"action":"export"}`:      "filter.segment_id",
		`{"rule":"contact.attributes.city ==","action":"export"}`: "rule",
		`{"rule":"contact.nmae == \"x\"","action":"export"}`:      "rule",
	} {
		code, raw := a.do(http.MethodPost, "/contacts/bulk", body)
		require.Equal(t, http.StatusUnprocessableEntity, code, body)
		var out struct{ Error struct{ Field string } }
		require.NoError(t, json.Unmarshal(raw, &out))
		require.Equal(t, field, out.Error.Field, "%s → %s", body, raw)
	}
	var n int
	require.NoError(t, a.pool.QueryRow(t.Context(), `SELECT count(*) FROM bulk_jobs`).Scan(&n))
	require.Zero(t, n)
	code, _ := a.do(http.MethodGet, "/bulk/424242", "")
	require.Equal(t, http.StatusNotFound, code)
}
