package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestScheduleEcho: the schedule field's echo reads what was typed on the
// user's clock and says the UTC instant it will be stored as, or how to
// write it, in the page's language.
func TestScheduleEcho(t *testing.T) {
	t.Parallel()
	e := echo.New()
	require.NoError(t, Register(e.Group("/admin"), Deps{}))
	get := func(lang, q string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/admin/locale/gregorian?scheduled_at="+q, nil)
		req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	// Nobody is signed in here: the clock is UTC.
	code, body := get("fa", "1405/09/15%2009:00")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "= 2026-12-06 09:00 UTC · ذخیره به‌صورت 2026-12-06 09:00 UTC", body)
	_, body = get("en", "2026-12-06T09:00")
	require.Equal(t, "= 2026-12-06 09:00 UTC · stored as 2026-12-06 09:00 UTC", body)
	_, body = get("fa", "tomorrow")
	require.Equal(t, "تاریخ و ساعت را به شکل ۱۴۰۵/۰۹/۱۵ ۰۹:۰۰ بنویسید.", body)
	_, body = get("en", "")
	require.Empty(t, body)
}
