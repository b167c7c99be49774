package reports_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/factory"
)

// TestStandardRevenueReconciles checks that the standard report's revenue
// cards are the sums of its day rows, per currency, and equal a direct sum
// over the raw transactions: attributed ones (to a campaign in scope) and
// all of them, on two days and in two currencies that are never added.
// (The cards once showed every transaction and the rows only attributed
// ones, summed across currencies: €484,982 against €50,125.)
func TestStandardRevenueReconciles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 6, 1000)
	b.launch(t, c)
	var contact int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT contact_id FROM deliveries WHERE campaign_id = $1 LIMIT 1`, c.ID).Scan(&contact))
	today := time.Now().UTC().Truncate(24 * time.Hour)
	yesterday := today.AddDate(0, 0, -1)
	for _, tx := range []struct {
		campaign *int64
		value    float64
		currency string
		at       time.Time
	}{
		{&c.ID, 590, "EUR", today.Add(time.Hour)},
		{&c.ID, 10000, "JPY", today.Add(2 * time.Hour)},
		{&c.ID, 10, "EUR", yesterday.Add(time.Hour)},
		{nil, 400, "EUR", yesterday.Add(2 * time.Hour)}, // not attributed
		{nil, 7, "", today.Add(3 * time.Hour)},          // no currency posted
	} {
		opts := []factory.TransactionOption{factory.Value(tx.value), factory.Currency(tx.currency), factory.OccurredAt(tx.at)}
		if tx.campaign != nil {
			opts = append(opts, factory.Campaign(*tx.campaign))
		}
		factory.Transaction(t, b.pool, contact, opts...)
	}
	q, err := reports.ParseStandardQuery(yesterday.Format(time.DateOnly), today.Format(time.DateOnly), "", time.Now())
	require.NoError(t, err)
	s, err := reports.BuildStandard(ctx, b.pool, q)
	require.NoError(t, err)

	// The raw rows, summed directly.
	raw := func(attributedOnly bool) map[string]float64 {
		rows, err := b.pool.Query(ctx, `SELECT currency, sum(value)::float8 FROM transactions
			WHERE occurred_at >= $1 AND occurred_at < $2 AND (NOT $3 OR campaign_id IS NOT NULL) GROUP BY 1`,
			yesterday, today.AddDate(0, 0, 1), attributedOnly)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]float64{}
		for rows.Next() {
			var cur string
			var v float64
			require.NoError(t, rows.Scan(&cur, &v))
			out[cur] = v
		}
		require.NoError(t, rows.Err())
		return out
	}
	require.Equal(t, map[string]float64{"EUR": 600, "JPY": 10000}, raw(true))
	require.Equal(t, raw(true), s.Revenue.AttributedByCurrency)
	require.Equal(t, raw(false), s.Revenue.TotalByCurrency)

	// The cards are the sums of the rows.
	attributed, total := map[string]float64{}, map[string]float64{}
	for _, d := range s.Days {
		for k, v := range d.RevenueByCurrency {
			attributed[k] += v
		}
		for k, v := range d.RevenueTotalByCurrency {
			total[k] += v
		}
	}
	require.Equal(t, s.Revenue.AttributedByCurrency, attributed)
	require.Equal(t, s.Revenue.TotalByCurrency, total)
	require.Equal(t, map[string]float64{"EUR": 410}, s.Days[0].RevenueTotalByCurrency)
	require.Equal(t, "EUR 590.00; JPY 10000.00", reports.FormatAmounts(s.Days[1].RevenueByCurrency))

	// The API answers the same value, and the CSV carries the same columns.
	code, body := b.body(t, "/reports/standard.csv?from="+yesterday.Format(time.DateOnly)+"&to="+today.Format(time.DateOnly))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "EUR 590.00; JPY 10000.00,? 7.00; EUR 590.00; JPY 10000.00")

	// A bad date is a 422 naming the field, as on the API.
	_, err = reports.ParseStandardQuery("2024-13-01", "", "", time.Now())
	require.ErrorContains(t, err, "not a date")
}
