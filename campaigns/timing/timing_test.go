package timing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/timing"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := timing.Load(name)
	require.NoError(t, err)
	return loc
}

func TestParseClock(t *testing.T) {
	t.Parallel()
	c, err := timing.ParseClock("09:00")
	require.NoError(t, err)
	require.Equal(t, timing.Clock(540), c)
	require.Equal(t, "09:00", c.String())
	for _, bad := range []string{"", "9:00", "24:00", "09:60", "09:00:00", "nine", " 09:00"} {
		_, err := timing.ParseClock(bad)
		require.ErrorIs(t, err, timing.ErrClock, bad)
	}
}

func TestNextAt(t *testing.T) {
	t.Parallel()
	tehran := mustLoad(t, "Asia/Tehran")
	nine, _ := timing.ParseClock("09:00")
	// 05:00 UTC is 08:30 in Tehran: 09:00 the same day.
	got := timing.NextAt(time.Date(2031, 5, 4, 5, 0, 0, 0, time.UTC), tehran, nine)
	require.Equal(t, time.Date(2031, 5, 4, 5, 30, 0, 0, time.UTC), got.UTC())
	// Exactly 09:00 local is due now.
	require.Equal(t, got, timing.NextAt(got, tehran, nine))
	// A second later: tomorrow.
	require.Equal(t, got.AddDate(0, 0, 1).UTC(), timing.NextAt(got.Add(time.Second), tehran, nine).UTC())

	// New York across the spring-forward day: 09:00 EDT is 13:00 UTC, the
	// day before 09:00 EST was 14:00 UTC.
	ny := mustLoad(t, "America/New_York")
	require.Equal(t, time.Date(2031, 3, 8, 14, 0, 0, 0, time.UTC), timing.NextAt(time.Date(2031, 3, 8, 10, 0, 0, 0, time.UTC), ny, nine).UTC())
	require.Equal(t, time.Date(2031, 3, 9, 13, 0, 0, 0, time.UTC), timing.NextAt(time.Date(2031, 3, 8, 15, 0, 0, 0, time.UTC), ny, nine).UTC())
}

func TestQuietRelease(t *testing.T) {
	t.Parallel()
	tehran := mustLoad(t, "Asia/Tehran") // UTC+3:30, no DST since 2022
	q, err := timing.ParseQuiet("22:00", "08:00")
	require.NoError(t, err)
	local := func(d, h, m int) time.Time { return time.Date(2031, 5, d, h, m, 0, 0, tehran) }
	require.Equal(t, local(4, 21, 59), q.Release(local(4, 21, 59), tehran), "before the window")
	require.Equal(t, local(5, 8, 0), q.Release(local(4, 22, 0), tehran), "evening: held to the next morning")
	require.Equal(t, local(5, 8, 0), q.Release(local(5, 3, 0), tehran), "after midnight: held to this morning")
	require.Equal(t, local(5, 8, 0), q.Release(local(5, 8, 0), tehran), "the end is outside")

	day, err := timing.ParseQuiet("12:00", "13:30")
	require.NoError(t, err)
	require.Equal(t, local(4, 13, 30), day.Release(local(4, 12, 10), tehran))
	require.Equal(t, local(4, 11, 0), day.Release(local(4, 11, 0), tehran))

	none, err := timing.ParseQuiet("08:00", "08:00")
	require.NoError(t, err)
	require.Equal(t, local(4, 8, 0), none.Release(local(4, 8, 0), tehran), "an empty window holds nothing")

	_, err = timing.ParseQuiet("22:00", "8")
	require.ErrorIs(t, err, timing.ErrClock)
	require.ErrorContains(t, err, "to:")
}

func TestResolve(t *testing.T) {
	t.Parallel()
	cases := []struct {
		attrs       map[string]any
		def         string
		zone, src   string
		inferedFrom string
	}{
		{map[string]any{"timezone": "Europe/Paris", "country": "IR"}, "", "Europe/Paris", timing.SourceAttribute, ""},
		{map[string]any{"timezone": "Mars/Olympus", "country": "ir"}, "", "Asia/Tehran", timing.SourceCountry, "ir"},
		{map[string]any{"country": "Iran"}, "", "Asia/Tehran", timing.SourceCountry, "Iran"},
		{map[string]any{"country": "USA"}, "", "America/New_York", timing.SourceCountry, "USA"},
		{map[string]any{"country": "Atlantis", "phone": "+98 912 345 6789"}, "", "Asia/Tehran", timing.SourcePhone, "+98 912 345 6789"},
		{map[string]any{"phone": "001 (212) 555-0100"}, "", "America/New_York", timing.SourcePhone, "001 (212) 555-0100"},
		{map[string]any{"mobile": "+971-50-123-4567"}, "", "Asia/Dubai", timing.SourcePhone, "+971-50-123-4567"},
		{map[string]any{"phone": "09123456789"}, "Asia/Tokyo", "Asia/Tokyo", timing.SourceCampaign, ""},
		{map[string]any{"phone": 989123456789}, "", "UTC", timing.SourceDefault, ""},
		{nil, "Local", "UTC", timing.SourceDefault, ""},
	}
	for _, c := range cases {
		z := timing.Resolve(c.attrs, c.def)
		require.Equal(t, c.zone, z.Name(), "%v", c.attrs)
		require.Equal(t, c.src, z.Source, "%v", c.attrs)
		require.Equal(t, c.inferedFrom, z.From, "%v", c.attrs)
	}
}

func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "Local", "Tehran", "Asia/Tehran ", "../etc/passwd"} {
		_, err := timing.Load(bad)
		require.ErrorIs(t, err, timing.ErrZone, bad)
	}
	loc, err := timing.Load("UTC")
	require.NoError(t, err)
	require.Equal(t, time.UTC.String(), loc.String())
}

func TestPhoneZone(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Asia/Tehran", timing.PhoneZone("+989123456789"))
	require.Equal(t, "Asia/Tehran", timing.PhoneZone("0098 912 345 6789"))
	require.Equal(t, "Europe/Lisbon", timing.PhoneZone("+351 21 000 0000"))
	require.Empty(t, timing.PhoneZone("+1"), "too short to be a number")
	require.Empty(t, timing.PhoneZone("+99 1234 5678"), "unknown code")
	require.Empty(t, timing.PhoneZone("+98 abc"), "not a number")
	require.Empty(t, timing.PhoneZone("0912 345 6789"), "national")
}
