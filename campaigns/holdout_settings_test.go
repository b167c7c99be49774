package campaigns

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/internal/errs"
)

// settings.holdout is a share from 0 to 0.5; anything else is refused at
// the field, and the share cannot change once the campaign left draft.
func TestHoldoutSetting(t *testing.T) {
	t.Parallel()
	for _, ok := range []float64{0, 0.01, 0.1, 0.5} {
		c := validCampaign()
		c.Settings.Holdout = ok
		require.NoError(t, c.normalize(), "%v", ok)
	}
	for _, bad := range []float64{-0.1, 0.51, 1, 10} { // JSON carries no NaN or Inf
		c := validCampaign()
		c.Settings.Holdout = bad
		field, msg := invalidField(t, c)
		require.Equal(t, "settings.holdout", field, "%v: %s", bad, msg)
		require.Contains(t, msg, "must be a share from 0 to 0.5")
	}
	old := validCampaign()
	old.Status = StatusRunning
	c := old
	require.NoError(t, keepHoldout(old, c))
	c.Settings.Holdout = 0.2
	err := keepHoldout(old, c)
	require.True(t, errs.Is(err, errs.Conflict))
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "settings.holdout", e.Field)
}

// The report reuses a holdout measure for holdoutMemoTTL, then measures
// again; window_open follows the clock meanwhile.
func TestHoldoutMemo(t *testing.T) {
	t.Parallel()
	var m holdoutMemo
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	_, ok := m.get(1, t0)
	require.False(t, ok)
	m.put(1, holdout.Report{Size: 7, WindowEndsAt: t0.Add(10 * time.Second), WindowOpen: true}, t0)
	h, ok := m.get(1, t0.Add(5*time.Second))
	require.True(t, ok)
	require.EqualValues(t, 7, h.Size)
	require.True(t, h.WindowOpen)
	h, ok = m.get(1, t0.Add(15*time.Second))
	require.True(t, ok)
	require.False(t, h.WindowOpen, "the window closed while the measure was kept")
	_, ok = m.get(2, t0)
	require.False(t, ok, "per campaign")
	_, ok = m.get(1, t0.Add(holdoutMemoTTL))
	require.False(t, ok, "expired")
	m.put(2, holdout.Report{}, t0.Add(holdoutMemoTTL))
	require.NotContains(t, m.m, int64(1), "expired entries are dropped")
}
