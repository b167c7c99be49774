package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
)

// TestPagesShowMoneyInItsCurrency: after purchases in EUR (the reporting
// currency) and JPY, the live report page and the comparison page show
// revenue and revenue per recipient with the currency, from a direct sum
// over the raw transactions, and the JPY amount beside it, never added;
// the API's timeline revenue (per minute and per hour) adds up to the EUR
// revenue alone.
func TestPagesShowMoneyInItsCurrency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 6, 1000)
	b.launch(t, c)
	ids, _ := b.deliveries(t, c.ID)
	buy(t, b, c.ID, ids[0], 590, "EUR")
	buy(t, b, c.ID, ids[1], 10000, "JPY")

	var eur, jpy float64
	var people int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(sum(value) FILTER (WHERE currency = 'EUR'), 0)::float8,
			coalesce(sum(value) FILTER (WHERE currency = 'JPY'), 0)::float8 FROM transactions`).Scan(&eur, &jpy))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(DISTINCT contact_id) FROM deliveries
		WHERE campaign_id = $1 AND status = 'sent'`, c.ID).Scan(&people))
	require.Equal(t, []float64{590, 10000}, []float64{eur, jpy})
	perRecipient := reports.Money("EUR", eur/float64(people))

	code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report.html")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `data-metric="revenue" data-format="money">EUR 590.00</b>`)
	require.Contains(t, body, `<small id="revenue-other" class="other">also JPY 10000.00 (not added)</small>`)
	require.Contains(t, body, `data-metric="revenue_per_recipient" data-format="money">`+perRecipient+`</b>`)
	require.Contains(t, body, `<td>EUR 590.00 · also JPY 10000.00</td>`, "the main step's revenue")
	require.NotContains(t, body, "10590", "currencies are never added")

	// The timeline's revenue is the reporting currency's too, per minute
	// and per hour.
	for _, res := range []string{"minute", "hour"} {
		code, body := b.body(t, "/campaigns/"+itoa(c.ID)+"/report?resolution="+res)
		require.Equal(t, http.StatusOK, code, body)
		var r campaigns.Report
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		sum := 0.0
		for _, p := range r.Timeline {
			sum += p.Revenue
		}
		require.InDelta(t, eur, sum, 1e-9, res)
		require.InDelta(t, eur, r.Metrics.Revenue, 1e-9)
	}

	code, body = b.body(t, "/reports/compare.html?ids="+itoa(c.ID))
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, "<td>EUR 590.00 · also JPY 10000.00 (not added)</td>")
	require.Contains(t, body, fmt.Sprintf("<td>%s</td>", perRecipient))
}
