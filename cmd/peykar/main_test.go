package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/outbox"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" { // re-executed by a crash test: be peykar
		os.Exit(runMain(nil))
	}
	pgtest.Main(m)
}

// testMain starts Main on port :0 against a fresh test database and the
// embedded SMTP catch-all, and closes it when t ends. kv are extra
// environment variables as name, value pairs. The API needs a token: see
// testToken and do in auth_test.go.
func testMain(t *testing.T, kv ...string) *Main {
	t.Helper()
	return testMainAt(t, nil, kv...)
}

// testMainAt is testMain with the login backoff on the clock now (nil:
// time.Now). A test of the backoff's refusals passes a frozen clock, so a
// slow login on a busy machine cannot outlast the wait it tests.
func testMainAt(t *testing.T, now func() time.Time, kv ...string) *Main {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":    pgtest.NewDSN(t),
		"PEYKAR_ADDR":     "127.0.0.1:0",
		"PEYKAR_DATA_DIR": t.TempDir(),
		"PEYKAR_BASE_URL": "http://peykar.test",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	m := NewMain(cfg, io.Discard, testWriter{t})
	m.Now = now
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// waitStartupRecompute waits until the analytics recompute that River runs
// at start has completed. It replaces the anomaly flags wholesale, so a flag
// a test writes before it ends is dropped; on a busy machine it may end
// seconds after Run returned.
func waitStartupRecompute(t *testing.T, m *Main) {
	t.Helper()
	require.Eventually(t, func() bool {
		var done bool
		err := m.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT FROM river_job WHERE kind = $1 AND state = 'completed')`,
			analytics.RecomputeArgs{}.Kind()).Scan(&done)
		return err == nil && done
	}, 2*time.Minute, 20*time.Millisecond, "the start-up analytics recompute did not complete")
}

// frozenClock is a clock that never moves: a login backoff's wait never
// runs out during the test, however slowly its logins run.
func frozenClock() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestServeHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	m := testMain(t)

	code, body := get(t, m.URL()+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)

	code, body = get(t, m.URL()+"/readyz")
	require.Equal(t, http.StatusOK, code, body)

	code, body = get(t, m.URL()+"/no/such/route")
	require.Equal(t, http.StatusNotFound, code)
	require.JSONEq(t, `{"error":{"code":"not_found","message":"not found"}}`, body)

	code, body = get(t, m.URL()+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{`peykar_http_requests_total{code="200"`, `url="/healthz"`, "go_goroutines", "process_resident_memory_bytes",
		"peykar_db_pool_max_connections", "peykar_db_pool_acquire_wait_seconds_total",
		"peykar_tracking_events_total 0", "peykar_tracking_folded_total 0", "peykar_tracking_inbox_oldest_seconds 0"} {
		require.True(t, strings.Contains(body, want), "metrics lack %s", want)
	}
	require.False(t, strings.Contains(body, "/no/such/route"), "unknown paths are not labels")

	// The outbox prune job runs on start; its outcome shows up in the job metrics.
	require.Eventually(t, func() bool {
		_, body := get(t, m.URL()+"/metrics")
		return strings.Contains(body, `peykar_jobs_total{kind="outbox_prune",outcome="job_completed",queue="default"} 1`)
	}, 10*time.Second, 50*time.Millisecond)

	code, _ = do(t, m, http.MethodGet, "/admin/jobs/", testToken(t, m, auth.RoleAdmin), nil)
	require.Equal(t, http.StatusOK, code, "River UI is mounted")
}

func TestReadyzReportsStaleSchema(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	_, err := m.pool.Exec(context.Background(), "UPDATE peykar_schema_version SET version = version - 1")
	require.NoError(t, err)
	code, body := get(t, m.URL()+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "schema is not current")
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	resp, err := http.Post(m.URL()+"/api/v1/outbox", "application/json", bytes.NewReader(make([]byte, 3<<20)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func TestTwoServersShareOneDatabase(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	var mains []*Main
	for range 2 {
		env := map[string]string{"DATABASE_URL": dsn, "PEYKAR_ADDR": "127.0.0.1:0", "PEYKAR_DATA_DIR": t.TempDir()}
		cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		m := NewMain(cfg, io.Discard, testWriter{t})
		mains = append(mains, m)
	}
	errs := make(chan error, 2)
	for _, m := range mains {
		go func() { errs <- m.Run(context.Background()) }()
	}
	for range mains {
		require.NoError(t, <-errs)
	}
	for _, m := range mains {
		code, _ := get(t, m.URL()+"/readyz")
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, m.Close())
	}
}

func TestInvalidConfiguration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env: map[string]string{"PEYKAR_ADDR": "nonsense"}, want: "PEYKAR_ADDR"},
		{env: map[string]string{"DATABASE_URL": "postgres://x:badport/db"}, want: "DATABASE_URL"},
		{env: map[string]string{"SMTP_URL": "http://mail.example"}, want: "SMTP_URL: scheme must be smtp or smtps"},
		{env: map[string]string{"SMTP_URL": "smtp://mail.example?tls=maybe"}, want: "SMTP_URL"},
		{env: map[string]string{"PEYKAR_BASE_URL": "ftp://x"}, want: "PEYKAR_BASE_URL"},
		{env: map[string]string{"PEYKAR_SECRET": "short"}, want: "PEYKAR_SECRET: must be at least 32"},
		{env: map[string]string{"PEYKAR_LOG_LEVEL": "loud"}, want: "PEYKAR_LOG_LEVEL"},
		{args: []string{"--addr", "also-nonsense"}, want: "PEYKAR_ADDR"},
		{env: map[string]string{"PEYKAR_FREQUENCY_CAP": "2/day"}, want: "PEYKAR_FREQUENCY_CAP: frequency cap \"2/day\": must be MAX/PER"},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		code := Run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, os.Stdout, &stderr)
		require.Equal(t, 2, code, tc.want)
		require.Contains(t, stderr.String(), "invalid configuration: "+tc.want)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PEYKAR_ADDR": "127.0.0.1:1111", "SMTP_URL": "smtp://u:p@mail.example:2525?tls=none&pool=3&rate=50"}
	cfg, rest, err := LoadConfig([]string{"--addr", "127.0.0.1:2222", "migrate"}, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:2222", cfg.Addr)
	require.Equal(t, "http://127.0.0.1:2222", cfg.BaseURL)
	require.Equal(t, []string{"migrate"}, rest)
	require.Equal(t, "mail.example:2525", cfg.smtp.Addr())
	require.Equal(t, 3, cfg.smtp.Pool)
	require.Equal(t, 50.0, cfg.smtp.Rate)
}

func TestSecretGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	cfg := Config{DataDir: t.TempDir()}
	a, err := cfg.loadOrCreateSecret()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(a), 32)
	b, err := cfg.loadOrCreateSecret()
	require.NoError(t, err)
	require.Equal(t, a, b)
	st, err := os.Stat(cfg.DataDir + "/secret")
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestWebAndWorkerModesSplitTheWork(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDSN(t)
	start := func(mode string) *Main {
		env := map[string]string{"DATABASE_URL": dsn, "PEYKAR_ADDR": "127.0.0.1:0", "PEYKAR_DATA_DIR": t.TempDir(),
			"PEYKAR_MODE": mode, "PEYKAR_SECRET": "mode-test-secret-mode-test-secret-xx"}
		cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		m := NewMain(cfg, io.Discard, testWriter{t})
		require.NoError(t, m.Run(context.Background()))
		t.Cleanup(func() { require.NoError(t, m.Close()) })
		return m
	}
	web, worker := start("web"), start("worker")

	code, _ := get(t, worker.URL()+"/readyz")
	require.Equal(t, http.StatusOK, code)
	code, _ = get(t, worker.URL()+"/api/v1/campaigns")
	require.Equal(t, http.StatusNotFound, code, "a worker serves no API")
	code, _ = get(t, web.URL()+"/api/v1/campaigns")
	require.Equal(t, http.StatusUnauthorized, code, "the web process serves the API (behind auth)")

	// A job enqueued by the web process is worked by the worker process.
	_, err := web.river.Insert(context.Background(), outboxPruneArgs(), nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		_ = worker.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'outbox_prune' AND state = 'completed'`).Scan(&n)
		return n >= 2 // the worker's own periodic run and the web's
	}, 20*time.Second, 50*time.Millisecond)
}

func outboxPruneArgs() outbox.PruneArgs { return outbox.PruneArgs{} }
