package campaigns

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func TestSettingsCurrency(t *testing.T) {
	t.Parallel()
	st := Settings{Currency: " jpy "}
	require.NoError(t, st.checkCurrency())
	require.Equal(t, "JPY", st.Currency)
	for _, bad := range []string{"EURO", "€", "E1R"} {
		st := Settings{Currency: bad}
		err := st.checkCurrency()
		var e *errs.Error
		require.True(t, errors.As(err, &e), bad)
		require.Equal(t, "settings.currency", e.Field)
	}
	s := &Service{}
	require.Equal(t, "EUR", s.reportingCurrency(Campaign{}))
	s.DefaultCurrency = "USD"
	require.Equal(t, "USD", s.reportingCurrency(Campaign{}))
	require.Equal(t, "JPY", s.reportingCurrency(Campaign{Settings: Settings{Currency: "JPY"}}))

	m := Metrics{RevenueByCurrency: map[string]float64{"": 5, "EUR": 590, "JPY": 10000}}
	m.useCurrency("EUR")
	require.Equal(t, 595.0, m.Revenue, "no currency counts in the reporting one; JPY never")
	require.Equal(t, map[string]float64{"EUR": 595, "JPY": 10000}, m.RevenueByCurrency)
}
