package campaigns

import (
	"testing"

	"github.com/stretchr/testify/require"

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
