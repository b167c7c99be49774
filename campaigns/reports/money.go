package reports

import (
	"maps"
	"strconv"

	"github.com/peykar/peykar/campaigns"
)

// Money is amount v in currency cur as the pages show it: "EUR 590.00"
// (the code first, so it reads the same left to right in both
// directions). An empty cur shows the amount alone.
func Money(cur string, v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if cur == "" {
		return s
	}
	return cur + " " + s
}

// OtherRevenue is m's revenue in currencies other than its reporting
// currency (m.Currency), as "JPY 10000.00; USD 5.00", or "" when there is
// none. These amounts are shown beside Revenue, never added to it.
func OtherRevenue(m campaigns.Metrics) string { return FormatAmounts(OtherAmounts(m)) }

// OtherAmounts is m's non-zero revenue in currencies other than its
// reporting currency, by currency code (what OtherRevenue writes).
func OtherAmounts(m campaigns.Metrics) map[string]float64 {
	other := maps.Clone(m.RevenueByCurrency)
	delete(other, m.Currency)
	maps.DeleteFunc(other, func(_ string, v float64) bool { return v == 0 })
	return other
}
