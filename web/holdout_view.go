package web

import (
	"math"
	"strconv"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/internal/errs"
)

// The campaign form shows settings.holdout (a share, 0.1) as a percent
// (10), which marketers think in; the API keeps the share.

// holdoutPercent is the form's value of s.Holdout: "" for none.
func holdoutPercent(s campaigns.Settings) string {
	if s.Holdout == 0 {
		return ""
	}
	// Rounded: 0.07*100 is 7.000000000000001 in floating point.
	return strconv.FormatFloat(math.Round(s.Holdout*1e8)/1e6, 'f', -1, 64)
}

// readHoldoutPercent reads the form's percent into a share. What is not a
// finite number is refused here, at the field; the range is the
// campaign's own check (and worded by holdoutProblem).
func readHoldoutPercent(s string, tr func(string, ...any) string, fail func(*errs.Error)) float64 {
	if s == "" {
		return 0
	}
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
		fail(errs.Field("settings.holdout", "%s", tr("holdout.invalid", int(holdout.MaxShare*100))))
		return 0
	}
	return p / 100
}

// holdoutProblem words the campaign's refusal of settings.holdout.
func holdoutProblem(tr func(string, ...any) string, e *errs.Error) string {
	if errs.Is(e, errs.Conflict) {
		return tr("holdout.locked")
	}
	return tr("holdout.invalid", int(holdout.MaxShare*100))
}
