package campaigns

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/settings"
	"github.com/peykar/peykar/internal/errs"
)

// TestConversionWindowOneDecoder holds campaigns' validation and tracking's
// reading of settings.conversion_window to one answer: a window campaigns
// accepts is the window tracking attributes with, and a window it refuses
// ("7d", once accepted by tracking alone) tracking ignores for the default.
func TestConversionWindowOneDecoder(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"", "1h", "168h", "7d", "3d", "0s", "-2h", "86400", "1h30m"} {
		c := Campaign{Name: "c", Settings: Settings{ConversionWindow: w}}
		err := c.normalize()
		raw, mErr := json.Marshal(c.Settings)
		require.NoError(t, mErr)
		got := settings.DecodeTracking(raw).ConversionWindow
		if err != nil {
			var e *errs.Error
			require.ErrorAs(t, err, &e, w)
			require.Equal(t, "settings.conversion_window", e.Field, w)
			require.Equal(t, settings.DefaultConversionWindow, got, "tracking ignores the refused %q", w)
			continue
		}
		want := settings.DefaultConversionWindow
		if w != "" {
			d, pErr := time.ParseDuration(w)
			require.NoError(t, pErr)
			want = d
		}
		require.Equal(t, want, got, "tracking reads the accepted %q", w)
	}
}
