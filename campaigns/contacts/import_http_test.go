package contacts

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
)

// withRiver runs a River client with the import worker for the test.
func withRiver(t *testing.T) func(*Deps) {
	return func(d *Deps) {
		workers := river.NewWorkers()
		river.AddWorker(workers, &ImportWorker{Pool: d.Pool, Logger: d.Logger})
		client, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{
			Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
			Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
		})
		require.NoError(t, err)
		require.NoError(t, client.Start(t.Context()))
		t.Cleanup(func() { _ = client.Stop(t.Context()) })
		d.River = client
	}
}

func (a api) upload(csv string, fields map[string]string) (int, map[string]any) {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(a.t, w.WriteField(k, v))
	}
	if csv != "" {
		f, err := w.CreateFormFile("file", "contacts.csv")
		require.NoError(a.t, err)
		_, err = f.Write([]byte(csv))
		require.NoError(a.t, err)
	}
	require.NoError(a.t, w.Close())
	req, err := http.NewRequestWithContext(a.ctx, "POST", a.url+"/contacts/import", &body)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return a.send(req)
}

// waitImport polls GET /imports/:id until the import is no longer running.
func (a api) waitImport(id int64) map[string]any {
	a.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		code, body := a.do("GET", "/imports/"+strconv.FormatInt(id, 10), nil)
		require.Equal(a.t, http.StatusOK, code, body)
		if body["status"] != ImportRunning {
			return body
		}
		select {
		case <-tick.C:
		case <-deadline:
			a.t.Fatalf("import %d still running after a minute", id)
		}
	}
}

func TestImportHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	a.mustCreate(t, ContactInput{Email: "existing@example.com", Name: "Old"})
	unsub := a.mustCreate(t, ContactInput{Email: "unsub@example.com"})
	require.NoError(t, Suppress(a.ctx, a.pool, unsub, StatusUnsubscribed))
	a.mustCreate(t, ContactInput{Email: "same@example.com", Name: "Same"})

	code, body := a.upload(mixedCSV, map[string]string{"mode": "upsert"})
	require.Equal(t, http.StatusAccepted, code, body)
	id := idOf(t, body)
	got := a.waitImport(id)
	require.Equal(t, ImportFinished, got["status"], got)
	for k, want := range map[string]float64{"total": 13, "inserted": 3, "updated": 2, "skipped": 1, "merged": 1, "rejected_count": 6} {
		require.Equal(t, want, got[k], k)
	}
	rej := got["rejected"].([]any)
	require.Len(t, rej, 6)
	require.Equal(t, map[string]any{"line": 3.0, "reason": rej[0].(map[string]any)["reason"]}, rej[0])
	require.Contains(t, rej[0].(map[string]any)["reason"], "invalid email")
	var chunks int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM import_chunks`).Scan(&chunks))
	require.Zero(t, chunks, "the uploaded file is dropped when done")

	// A header without email fails the import with a clear message.
	code, body = a.upload("name\nx\n", nil)
	require.Equal(t, http.StatusAccepted, code, body)
	got = a.waitImport(idOf(t, body))
	require.Equal(t, ImportFailed, got["status"])
	require.Contains(t, got["error"], "no email column")

	code, body = a.upload("", map[string]string{"mode": "upsert"})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	code, body = a.upload("email\n", map[string]string{"mode": "replace"})
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	code, _ = a.do("GET", "/imports/987654", nil)
	require.Equal(t, http.StatusNotFound, code)
}

// TestImportLargeUpload streams a file of several chunks through the job.
func TestImportLargeUpload(t *testing.T) {
	t.Parallel()
	a := newAPI(t, withRiver(t))
	var b bytes.Buffer
	b.WriteString("email,name,note\n")
	pad := string(bytes.Repeat([]byte("x"), 200))
	const n = 12000 // ≈ 2.8 MB: three chunks, three batches
	for i := range n {
		b.WriteString("user" + strconv.Itoa(i) + "@example.com,User " + strconv.Itoa(i) + "," + pad + "\n")
	}
	code, body := a.upload(b.String(), nil)
	require.Equal(t, http.StatusAccepted, code, body)
	got := a.waitImport(idOf(t, body))
	require.Equal(t, ImportFinished, got["status"], got)
	require.Equal(t, float64(n), got["total"])
	require.Equal(t, float64(n), got["inserted"])
	var count int
	require.NoError(t, a.pool.QueryRow(a.ctx, `SELECT count(*) FROM contacts`).Scan(&count))
	require.Equal(t, n, count)
}
