package reports

import (
	"maps"

	"github.com/peykar/peykar/campaigns"
)

// OtherAmounts is m's non-zero revenue in currencies other than its
// reporting currency (m.Currency), by currency code. The pages show these
// amounts beside Revenue, never added to it.
func OtherAmounts(m campaigns.Metrics) map[string]float64 {
	other := maps.Clone(m.RevenueByCurrency)
	delete(other, m.Currency)
	maps.DeleteFunc(other, func(_ string, v float64) bool { return v == 0 })
	return other
}
