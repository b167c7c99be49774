package campaigns

import (
	"fmt"
	"math"

	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/internal/errs"
)

// checkHoldout checks settings.holdout: a share from 0 to holdout.MaxShare.
func (st *Settings) checkHoldout() error {
	if h := st.Holdout; math.IsNaN(h) || h < 0 || h > holdout.MaxShare {
		return errs.Field("settings.holdout", "must be a share from 0 to %g (e.g. 0.1 keeps 10%% of the audience out of every send)", holdout.MaxShare)
	}
	return nil
}

// keepHoldout refuses a change of settings.holdout once the campaign has
// left draft: its launch walk records the group as it goes, so a new
// share would split the audience by two rules.
func keepHoldout(old, c Campaign) error {
	if math.Abs(old.Settings.Holdout-c.Settings.Holdout) < 1e-9 { // a percent typed back in a form
		return nil
	}
	return &errs.Error{Code: errs.Conflict, Field: "settings.holdout",
		Message: fmt.Sprintf("a %s campaign's holdout share cannot change; cancel it and create another", old.Status)}
}
