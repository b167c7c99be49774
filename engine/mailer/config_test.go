package mailer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSMTPRateBounds: SMTP_URL's rate takes the bounds of a campaign's
// throttle: 0 (unlimited) or 0.01 to 100000 messages per second.
func TestSMTPRateBounds(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"1e-320", "0.001", "-1", "1e308", "NaN", "Inf", "fast"} {
		_, err := ParseURL("smtp://mail.example:25?tls=none&rate=" + bad)
		require.ErrorContains(t, err, "from 0.01 to 100000 messages per second", bad)
	}
	for ok, want := range map[string]float64{"0": 0, "0.01": 0.01, "500": 500, "100000": 100000} {
		c, err := ParseURL("smtp://mail.example:25?tls=none&rate=" + ok)
		require.NoError(t, err, ok)
		require.Equal(t, want, c.Rate)
	}
}
