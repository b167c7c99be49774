package web

import (
	"html/template"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func tehran(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tehran")
	require.NoError(t, err)
	return loc
}

func TestLocaleDigitsAndSeparators(t *testing.T) {
	t.Parallel()
	en, fa := newLocale("en", nil), newLocale("fa", nil)
	require.Equal(t, "1,234,567", en.Num(int64(1234567)))
	require.Equal(t, "۱٬۲۳۴٬۵۶۷", fa.Num(int64(1234567)))
	require.Equal(t, "-1,234", en.Num(-1234))
	require.Equal(t, "0", en.Num(0))
	require.Equal(t, "۰", fa.Num(0))
	require.Equal(t, "999", en.Num(999))
	require.Equal(t, "1,234.5", en.Num(1234.5))
	require.Equal(t, "۱٬۲۳۴٫۵", fa.Num(1234.5))
	require.Equal(t, "12.5%", en.Pct(0.125))
	require.Equal(t, "۱۲٫۵٪", fa.Pct(0.125))
	require.Equal(t, "0.0%", en.Pct(0))
}

func TestLocaleMoney(t *testing.T) {
	t.Parallel()
	en, fa := newLocale("en", nil), newLocale("fa", nil)
	require.Equal(t, "€1,234.50", en.Money("EUR", 1234.5))
	require.Equal(t, "CHF\u00A01,234.50", en.Money("CHF", 1234.5))
	require.Equal(t, "¥10,000", en.Money("JPY", 10000))
	require.Equal(t, "590.00", en.Money("", 590))
	require.Equal(t, "۱٬۲۳۴٫۵۰\u00A0€", fa.Money("EUR", 1234.5))
	require.Equal(t, "۱۲٬۰۰۰٬۰۰۰\u00A0ریال", fa.Money("IRR", 12e6))
	require.Equal(t, "€590.00; ¥10,000", en.Amounts(map[string]float64{"JPY": 10000, "EUR": 590}))
	require.Equal(t, "۵۹۰٫۰۰\u00A0€؛ ۱۰٬۰۰۰\u00A0¥", fa.Amounts(map[string]float64{"JPY": 10000, "EUR": 590}))
	require.Empty(t, en.Amounts(nil))
}

// TestLocaleJalaliDates checks known conversions, Nowruz 1405 included,
// and that the day is the user's day (Tehran is ahead of UTC).
func TestLocaleJalaliDates(t *testing.T) {
	t.Parallel()
	fa, en := newLocale("fa", time.UTC), newLocale("en", time.UTC)
	for _, c := range []struct {
		g    time.Time
		want string
	}{
		{time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC), "۱۴۰۵/۰۱/۰۱"}, // Nowruz 1405
		{time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC), "۱۴۰۴/۱۲/۲۹"}, // 1404 is not a leap year
		{time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC), "۱۴۰۳/۱۲/۳۰"}, // 1403 is
		{time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), "۱۴۰۵/۰۹/۱۵"},
		{time.Date(1979, 2, 11, 12, 0, 0, 0, time.UTC), "۱۳۵۷/۱۱/۲۲"},
	} {
		require.Equal(t, c.want, fa.Day(c.g), c.g.String())
	}
	at := time.Date(2026, 12, 6, 14, 30, 0, 0, time.UTC)
	require.Equal(t, "2026-12-06 14:30", en.Date(at))
	require.Equal(t, "۱۴۰۵/۰۹/۱۵ ۱۴:۳۰", fa.Date(&at))
	require.Equal(t, "—", fa.Date((*time.Time)(nil)))
	require.Equal(t, "—", en.Date(time.Time{}))

	// 21:00Z on 20 March is 00:30 on Nowruz in Tehran.
	eve := time.Date(2026, 3, 20, 21, 0, 0, 0, time.UTC)
	require.Equal(t, "۱۴۰۵/۰۱/۰۱ ۰۰:۳۰", newLocale("fa", tehran(t)).Date(eve))
	require.Equal(t, "2026-03-21 00:30", newLocale("en", tehran(t)).Date(eve))
	require.Equal(t, "۱۴۰۴/۱۲/۲۹ ۲۱:۰۰", fa.Date(eve))
}

// TestScheduleInUserZone: a schedule is entered on the user's clock and
// stored as the UTC instant.
func TestScheduleInUserZone(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 12, 6, 5, 30, 0, 0, time.UTC)
	en, fa := newLocale("en", tehran(t)), newLocale("fa", tehran(t))

	got, err := en.ParseSchedule("2026-12-06T09:00")
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, time.UTC, got.Location())

	for _, in := range []string{"۱۴۰۵/۰۹/۱۵ ۰۹:۰۰", "1405/09/15 09:00", "1405-9-15 9:00", "2026-12-06T09:00"} {
		got, err := fa.ParseSchedule(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	require.Equal(t, "۱۴۰۵/۰۹/۱۵ ۰۹:۰۰", fa.ScheduleValue(&want))
	require.Equal(t, "2026-12-06T09:00", en.ScheduleValue(&want))

	// In UTC the same wall clock is 09:00Z.
	got, err = newLocale("en", nil).ParseSchedule("2026-12-06T09:00")
	require.NoError(t, err)
	require.Equal(t, want.Add(3*time.Hour+30*time.Minute), got)

	for _, bad := range []string{"", "tomorrow", "1405/13/01 09:00", "1404/12/30 09:00", "1405/09/15 25:00", "1405/09/15"} {
		_, err := fa.ParseSchedule(bad)
		require.ErrorIs(t, err, errScheduleFormat, bad)
	}
	_, err = en.ParseSchedule("1405/09/15 09:00")
	require.ErrorIs(t, err, errScheduleFormat)
}

// TestPagesPerZoneBounded: pages are parsed once per zone, up to a bound;
// a zone past it is still served.
func TestPagesPerZoneBounded(t *testing.T) {
	t.Parallel()
	msg, err := loadCatalogue("fa")
	require.NoError(t, err)
	l := &language{tag: "fa", msg: msg, byZone: map[string]map[string]*template.Template{}}
	first, err := l.pagesIn(tehran(t))
	require.NoError(t, err)
	again, err := l.pagesIn(tehran(t))
	require.NoError(t, err)
	require.Equal(t, first["campaigns"], again["campaigns"], "parsed once")
	for i := range maxCachedZones + 2 {
		p, err := l.pagesIn(time.FixedZone("z"+strconv.Itoa(i), i*60))
		require.NoError(t, err)
		require.Contains(t, p, "campaigns")
	}
	require.Len(t, l.byZone, maxCachedZones)
}
