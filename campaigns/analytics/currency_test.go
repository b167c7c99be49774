package analytics

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/factory"
)

// TestMoneyInOneCurrency: a contact who bought for 50 EUR and 10,000 JPY
// has monetary 50 (and a value from 50) when the operator's currency is
// EUR, and 10,000 when it is JPY; the purchases in the other currency still
// count for frequency and recency, and nothing adds the two amounts.
func TestMoneyInOneCurrency(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mixed := f.contact()
	factory.Transaction(t, f.pool, mixed, factory.Value(50), factory.Currency("EUR"), factory.OccurredAt(now.Add(-days(20))))
	factory.Transaction(t, f.pool, mixed, factory.Value(10000), factory.Currency("jpy"), factory.OccurredAt(now.Add(-days(5))))
	eurOnly := f.contact()
	factory.Transaction(t, f.pool, eurOnly, factory.Value(50), factory.Currency("EUR"), factory.OccurredAt(now.Add(-days(20))))
	unknown := f.contact() // posted without a currency: counts in the operator's
	f.purchases(unknown, 30, 20)

	// The raw rows: what each contact spent, per currency.
	var raw float64
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT sum(value)::float8 FROM transactions
		WHERE contact_id = $1 AND upper(currency) = 'EUR'`, mixed).Scan(&raw))

	_, err := ScoreContacts(f.ctx, f.pool, Config{Now: now})
	require.NoError(t, err)
	eur := f.score(mixed)
	require.InDelta(t, raw, eur.Monetary, 1e-9, "the default currency is EUR")
	require.Equal(t, 2, eur.Purchases, "the JPY purchase counts for frequency")
	require.InDelta(t, 5, eur.LastActivityDays, 1e-6, "and for recency")
	require.Less(t, eur.Value, 1000.0, "value grows from 50 EUR, not from 10,050")
	require.InDelta(t, 30, f.score(unknown).Monetary, 1e-9)

	_, err = ScoreContacts(f.ctx, f.pool, Config{Now: now, Currency: "jpy"})
	require.NoError(t, err)
	jpy := f.score(mixed)
	require.InDelta(t, 10000, jpy.Monetary, 1e-9)
	require.Zero(t, f.score(eurOnly).Monetary, "EUR adds nothing to JPY")
	require.Zero(t, f.score(eurOnly).Value)
}
