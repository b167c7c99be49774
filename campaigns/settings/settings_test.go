package settings

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseConversionWindow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", DefaultConversionWindow, true},
		{"168h", 168 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"7d", 0, false}, // days are not a Go duration: campaigns always refused them
		{"3d", 0, false},
		{"0s", 0, false},
		{"-1h", 0, false},
		{" 1h", 0, false},
		{"soon", 0, false},
	} {
		d, err := ParseConversionWindow(c.in)
		if !c.ok {
			require.ErrorIs(t, err, ErrConversionWindow, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, d, c.in)
	}
}

func TestDecodeTracking(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		doc    string
		window time.Duration
		utm    UTM
	}{
		{`{}`, DefaultConversionWindow, UTM{}},
		{`not json`, DefaultConversionWindow, UTM{}},
		{`{"conversion_window":"1h","utm":{"source":"news"}}`, time.Hour, UTM{Source: "news"}},
		{`{"conversion_window":"3d","utm":{"medium":"email"}}`, DefaultConversionWindow, UTM{Medium: "email"}},
		{`{"conversion_window":86400}`, DefaultConversionWindow, UTM{}},
		{`{"conversion_window":"1h","utm":"odd"}`, time.Hour, UTM{}},
	} {
		got := DecodeTracking([]byte(c.doc))
		require.Equal(t, c.window, got.ConversionWindow, c.doc)
		require.Equal(t, c.utm, got.UTM, c.doc)
	}
}

func TestUTMApply(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://a.example/?x=1", UTM{}.Apply("https://a.example/?x=1"))
	require.Equal(t, "https://a.example/?utm_medium=email&utm_source=mine",
		UTM{Source: "news", Medium: "email"}.Apply("https://a.example/?utm_source=mine"), "a parameter the URL carries stays")
}
