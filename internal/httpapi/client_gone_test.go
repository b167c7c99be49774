package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestClientGoneIsNotAnError closes a request's connection while its
// handler waits on the request's context (what a long page body or a
// stream does): the server logs no ERROR and the access line says 499,
// while a handler that fails with a context error of its own (its client
// still there) is still a logged 500.
func TestClientGoneIsNotAnError(t *testing.T) {
	t.Parallel()
	e, logs := loggedEcho()
	entered := make(chan struct{})
	e.GET("/slow", func(c echo.Context) error {
		close(entered)
		<-c.Request().Context().Done()
		return fmt.Errorf("read report: %w", c.Request().Context().Err())
	})
	e.GET("/own-timeout", func(echo.Context) error {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return fmt.Errorf("query: %w", ctx.Err())
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel()
	require.Error(t, <-done)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "uri=/slow status=499") }, 10*time.Second, 5*time.Millisecond,
		"want the access line with 499 in:\n%s", logs.String())
	require.NotContains(t, logs.String(), "level=ERROR")

	resp, err := http.Get(srv.URL + "/own-timeout")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "level=ERROR") }, 10*time.Second, 5*time.Millisecond)
}
