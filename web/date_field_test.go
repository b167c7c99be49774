package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestDateField: date fields show and read the Jalali calendar in Persian
// (either digits), the ISO date in English, and both take what a date
// picker sends; a wrong date is an error, never another day.
func TestDateField(t *testing.T) {
	t.Parallel()
	en, fa := newLocale("en", nil), newLocale("fa", nil)
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) // 1405/09/15

	require.Equal(t, "2026-12-06", en.DateValue(&day))
	require.Equal(t, "۱۴۰۵/۰۹/۱۵", fa.DateValue(&day))
	require.Equal(t, "۱۴۰۵/۰۹/۱۵", fa.DateValue("2026-12-06"))
	require.Equal(t, "oops", fa.DateValue("oops"), "a mistyped value stays as typed")
	require.Empty(t, fa.DateValue((*time.Time)(nil)))

	for _, s := range []string{"1405/09/15", "۱۴۰۵/۰۹/۱۵", "1405-9-15", " 2026-12-06 "} {
		got, err := fa.ParseDate(s)
		require.NoError(t, err, s)
		require.Equal(t, day, got, s)
	}
	got, err := en.ParseDate("2026-12-06")
	require.NoError(t, err)
	require.Equal(t, day, got)
	for _, s := range []string{"1405/12/31", "1405/13/01", "1405/09/15 10:00", "tomorrow", "15/09/1405"} {
		_, err := fa.ParseDate(s)
		require.Error(t, err, s)
	}
	_, err = en.ParseDate("1405/09/15")
	require.Error(t, err, "English takes the Gregorian date alone")

	require.Equal(t, "2026-12-06", fa.isoDate("۱۴۰۵/۰۹/۱۵"))
	require.Equal(t, "junk", fa.isoDate("junk"), "left for the API's check to word")
}

// TestDateEcho: a date field's echo (the field's own name as the query)
// says the Gregorian date a Jalali one is stored as, or how to write it.
func TestDateEcho(t *testing.T) {
	t.Parallel()
	e := echo.New()
	require.NoError(t, Register(e.Group("/admin"), Deps{}))
	get := func(lang, q string) string {
		req := httptest.NewRequest(http.MethodGet, "/admin/locale/gregorian?"+q, nil)
		req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Body.String()
	}
	require.Equal(t, "= ۲۰۲۶-۱۲-۰۶ میلادی", get("fa", "goals%5B0%5D.target_date=%DB%B1%DB%B4%DB%B0%DB%B5/%DB%B0%DB%B9/%DB%B1%DB%B5"))
	require.Equal(t, "= ۲۰۲۶-۱۲-۰۶ میلادی", get("fa", "from=1405/09/15"))
	require.Equal(t, "تاریخ را به شکل ۱۴۰۵/۰۹/۱۵ بنویسید (سال/ماه/روز، هجری خورشیدی).", get("fa", "to=1405/13/01"))
	require.Equal(t, "= 2026-12-06 in the Gregorian calendar", get("en", "to=2026-12-06"))
	require.Empty(t, get("fa", "from="))
}
