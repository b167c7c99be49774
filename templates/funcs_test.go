package templates

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	for _, v := range []any{nil, "", "  ", []any{}, map[string]any{}, []string{}} {
		require.Equal(t, "d", defaultFunc("d", v), "%#v", v)
	}
	for _, v := range []any{"x", 0, 0.0, false, []string{"a"}} {
		require.Equal(t, v, defaultFunc("d", v), "%#v", v)
	}
	c := mustCompile(t, Template{HTML: `<p>{{ .Contact.Name | default "friend" }}|{{ attr "plan" "free" }}|{{ attr "plan" | default "none" }}|{{ attr "city" | default "x" | upper }}</p>`})
	r := render(t, c, Data{Contact: Contact{Attributes: map[string]any{"plan": nil}}}, nil)
	require.Equal(t, "<p>friend|free|none|X</p>", r.HTML)
}

func TestDateAndNumber(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 21, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{at, "2025-03-21"}, {&at, "2025-03-21"}, {"2025-03-21T09:30:00Z", "2025-03-21"}, {"2025-03-21", "2025-03-21"},
		{time.Time{}, ""}, {nil, ""}, {"", ""},
	} {
		got, err := dateFunc("2006-01-02", tc.v)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	_, err := dateFunc("2006", "yesterday")
	require.ErrorContains(t, err, "not a date")
	_, err = dateFunc("2006", 3)
	require.Error(t, err)

	for _, tc := range []struct {
		dec  int
		v    any
		want string
	}{
		{2, 1234.5, "1,234.50"}, {0, 1234567.0, "1,234,567"}, {2, -1234.567, "-1,234.57"}, {0, 999, "999"},
		{1, "12345.67", "12,345.7"}, {0, json.Number("1000"), "1,000"}, {2, int64(5), "5.00"}, {0, 100000, "100,000"},
	} {
		got, err := numberFunc(tc.dec, tc.v)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%v", tc.v)
	}
	_, err = numberFunc(2, "abc")
	require.ErrorContains(t, err, "not a number")
	_, err = numberFunc(2, true)
	require.Error(t, err)
}
