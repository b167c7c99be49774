package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// TestTrackingRoutesLogFailuresOnly serves tracking routes and an API
// route through the stack: a tracking hit answered below 500 (302, 404)
// writes no line and gets no request id; a tracking failure, whether the
// handler answers it (503) or returns it (500), is logged at ERROR by
// route, without its token, with a request id that the answer carries
// too; an API request still gets a request id and an access line
// whatever its status.
func TestTrackingRoutesLogFailuresOnly(t *testing.T) {
	t.Parallel()
	e, logs := loggedEcho()
	e.GET("/t/c/:token", func(c echo.Context) error {
		switch c.Param("token") {
		case "ok-token":
			return c.Redirect(http.StatusFound, "https://shop.example/")
		case "down-token":
			return c.HTML(http.StatusServiceUnavailable, "try again")
		case "broken-token":
			return errs.New(errs.Internal, "boom")
		}
		return c.HTML(http.StatusNotFound, "not found")
	})
	e.GET("/api/v1/thing", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}

	for path, status := range map[string]int{"/t/c/ok-token": http.StatusFound, "/t/c/forged-token": http.StatusNotFound} {
		resp := get(path)
		require.Equal(t, status, resp.StatusCode, path)
		require.Empty(t, resp.Header.Get(echo.HeaderXRequestID), path)
	}
	// The API request's line comes after the tracking hits' (the server
	// logs before it answers): once it is there, they would be too.
	api := get("/api/v1/thing")
	id := api.Header.Get(echo.HeaderXRequestID)
	require.NotEmpty(t, id)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `uri=/api/v1/thing status=200`) && strings.Contains(logs.String(), "request_id="+id)
	}, 10*time.Second, 5*time.Millisecond, logs.String())
	require.NotContains(t, logs.String(), "/t/c/", "tracking hits below 500 are not logged")

	for _, tc := range []struct {
		token  string
		status int
	}{{"down-token", http.StatusServiceUnavailable}, {"broken-token", http.StatusInternalServerError}} {
		resp := get("/t/c/" + tc.token)
		require.Equal(t, tc.status, resp.StatusCode)
		id := resp.Header.Get(echo.HeaderXRequestID)
		require.NotEmpty(t, id, "a failed tracking request carries its request id")
		line := regexp.MustCompile(`level=ERROR msg=http method=GET uri=/t/c/:token status=` + strconv.Itoa(tc.status) +
			` latency=\S+ ip=\S+ request_id=` + regexp.QuoteMeta(id) + "\n")
		require.Eventually(t, func() bool { return line.MatchString(logs.String()) }, 10*time.Second, 5*time.Millisecond, logs.String())
		if tc.status == http.StatusInternalServerError {
			// The error handler's own line names the same request.
			require.Contains(t, logs.String(), `msg="request failed" method=GET path=/t/c/[redacted] request_id=`+id)
		}
	}
	require.NotContains(t, logs.String(), "down-token")
	require.NotContains(t, logs.String(), "broken-token")
}
