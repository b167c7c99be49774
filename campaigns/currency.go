package campaigns

import (
	"regexp"
	"strings"

	"github.com/peykar/peykar/internal/errs"
)

// DefaultCurrency is the reporting currency when neither the campaign
// (settings.currency) nor the operator (Service.DefaultCurrency,
// PEYKAR_CURRENCY) names one.
const DefaultCurrency = "EUR"

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// CheckCurrency reports whether code is an ISO 4217 style code: three
// letters, upper case.
func CheckCurrency(code string) bool { return currencyRE.MatchString(code) }

// checkCurrency validates settings.currency (upper-casing it).
func (st *Settings) checkCurrency() error {
	if st.Currency == "" {
		return nil
	}
	st.Currency = strings.ToUpper(strings.TrimSpace(st.Currency))
	if !CheckCurrency(st.Currency) {
		return errs.Field("settings.currency", "must be a three-letter currency code such as EUR")
	}
	return nil
}

// reportingCurrency is c's reporting currency: settings.currency, else the
// operator's default, else DefaultCurrency.
func (s *Service) reportingCurrency(c Campaign) string {
	switch {
	case c.Settings.Currency != "":
		return c.Settings.Currency
	case s.DefaultCurrency != "":
		return s.DefaultCurrency
	}
	return DefaultCurrency
}

// useCurrency sets m's reporting currency and its revenue in it: revenue
// in that currency, plus revenue recorded without a currency (counted in
// the reporting currency). Other currencies stay in RevenueByCurrency
// only, never added to Revenue.
func (m *Metrics) useCurrency(cur string) {
	m.Currency = cur
	if m.RevenueByCurrency == nil {
		m.RevenueByCurrency = map[string]float64{}
	}
	if v, ok := m.RevenueByCurrency[""]; ok {
		m.RevenueByCurrency[cur] += v
		delete(m.RevenueByCurrency, "")
	}
	m.Revenue = m.RevenueByCurrency[cur]
}
