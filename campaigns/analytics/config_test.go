package analytics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigNowFromClock: a zero Now is read from the injected clock, each
// time defaults are filled (the worker clears Now before every run); a set
// Now is kept.
func TestConfigNowFromClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	cfg := Config{Clock: clock}.WithDefaults()
	require.Equal(t, at, cfg.Now)
	at = at.Add(time.Hour)
	cfg.Now = time.Time{}
	require.Equal(t, at, cfg.WithDefaults().Now, "the clock is read again")
	fixed := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, fixed, Config{Now: fixed, Clock: clock}.WithDefaults().Now)
	require.WithinDuration(t, time.Now(), Config{}.WithDefaults().Now, time.Hour, "default: the real clock")
}
