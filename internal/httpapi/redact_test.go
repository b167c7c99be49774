package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// syncBuffer is a log destination the server's goroutines may share.
// loggedEcho is an Echo server with the production middleware stack and
// error handler, logging as text into the returned buffer.
func loggedEcho() (*echo.Echo, *syncBuffer) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(logger)
	e.Use(httpapi.Middleware(logger, prometheus.NewRegistry())...)
	return e, logs
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A secret shaped as Peykar makes them: prefix, underscore, 43 characters.
const setupSecret = "setup_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"

// TestAccessLogRedactsSecrets serves real requests through the middleware
// stack and reads the access log lines they produce.
func TestAccessLogRedactsSecrets(t *testing.T) {
	t.Parallel()
	e, logs := loggedEcho()
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	e.GET("/admin/setup", ok)
	e.GET("/admin/setup/:token", ok)
	e.GET("/f/confirm/:token", func(echo.Context) error { return errs.New(errs.Internal, "boom") })
	e.GET("/api/v1/contacts/:id", ok)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	cases := []struct{ uri, logged string }{
		{"/admin/setup?token=" + setupSecret, `uri="/admin/setup?token=[redacted]"`},
		{"/admin/setup?lang=fa&token=" + setupSecret + "&next=%2Fadmin", `uri="/admin/setup?lang=fa&token=[redacted]&next=%2Fadmin"`},
		{"/admin/setup/" + setupSecret, `uri=/admin/setup/[redacted]`},
		{"/admin/setup/short-but-named-token", `uri=/admin/setup/[redacted]`},
		{"/no/such/route/" + setupSecret + "?x=" + setupSecret, `uri="/no/such/route/[redacted]?x=[redacted]"`},
		{"/api/v1/contacts/42?secret=hunter2&PASSWORD=x&access_token=y&q=kept", `uri="/api/v1/contacts/42?secret=[redacted]&PASSWORD=[redacted]&access_token=[redacted]&q=kept"`},
	}
	for _, tc := range cases {
		resp, err := http.Get(srv.URL + tc.uri)
		require.NoError(t, err)
		resp.Body.Close()
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), tc.logged) }, 10*time.Second, 5*time.Millisecond,
			"want %s in:\n%s", tc.logged, logs.String())
	}

	// A failure is logged twice (the error handler's line, then the access
	// line): neither carries the token.
	resp, err := http.Get(srv.URL + "/f/confirm/" + setupSecret)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `path=/f/confirm/[redacted]`) && strings.Contains(logs.String(), `uri=/f/confirm/[redacted] status=500`)
	}, 10*time.Second, 5*time.Millisecond, logs.String())

	require.NotContains(t, logs.String(), setupSecret[len("setup_"):])
	require.NotContains(t, logs.String(), "hunter2")
	require.NotContains(t, logs.String(), "short-but-named-token")
}
