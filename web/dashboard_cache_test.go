package web

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDashCacheKeepsForTTL: the whole-table numbers are computed once per
// dashboardTTL (on the injected clock), a failure is not kept, and a clock
// that went back does not serve numbers from the future.
func TestDashCacheKeepsForTTL(t *testing.T) {
	var c dashCache
	calls := 0
	compute := func() (dashAudience, error) {
		calls++
		return dashAudience{Contacts: int64(calls)}, nil
	}
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

	v, err := c.get(t0, compute)
	require.NoError(t, err)
	require.Equal(t, int64(1), v.Contacts)
	require.Equal(t, t0, v.At)

	v, err = c.get(t0.Add(dashboardTTL-time.Second), compute)
	require.NoError(t, err)
	require.Equal(t, int64(1), v.Contacts, "kept within the TTL")
	require.Equal(t, 1, calls)

	v, err = c.get(t0.Add(dashboardTTL), compute)
	require.NoError(t, err)
	require.Equal(t, int64(2), v.Contacts, "recomputed once the TTL is over")

	_, err = c.get(t0.Add(3*dashboardTTL), func() (dashAudience, error) { return dashAudience{}, errors.New("db down") })
	require.Error(t, err)
	v, err = c.get(t0.Add(3*dashboardTTL), compute)
	require.NoError(t, err)
	require.Equal(t, int64(3), v.Contacts, "a failure is not kept")

	v, err = c.get(t0, compute)
	require.NoError(t, err)
	require.Equal(t, int64(4), v.Contacts, "a clock that went back recomputes")
}
