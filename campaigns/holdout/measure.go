package holdout

import (
	"context"
	"fmt"
	"time"

	"github.com/peykar/peykar/campaigns/contacts"
)

// Method names the intervals Measure gives, as the report states them.
const Method = "Katz log risk-ratio 95% interval for the lift; Newcombe hybrid score (Wilson) 95% interval for the difference"

// Enough data: each group needs at least this many people who converted
// and as many who did not before the report calls the result conclusive
// (the normal approximations behind both intervals need it).
const minOutcomes = 10

// Window is what Measure compares: the campaign, its reporting currency
// and the conversion window [Start, End).
type Window struct {
	CampaignID int64
	Share      float64
	Currency   string
	Start, End time.Time
	// Now decides whether the window is still open.
	Now time.Time
}

// Report is a campaign's holdout comparison (the report's "holdout").
// Counts of conversions are people with at least one conversion in the
// window (the numerator of each rate); conversion_events counts the
// conversions themselves. Revenue is in Currency.
type Report struct {
	Share                   float64   `json:"share"`
	Size                    int64     `json:"size"`
	TreatedSize             int64     `json:"treated_size"`
	Conversions             int64     `json:"conversions"`
	TreatedConversions      int64     `json:"treated_conversions"`
	ConversionEvents        int64     `json:"conversion_events"`
	TreatedConversionEvents int64     `json:"treated_conversion_events"`
	Revenue                 float64   `json:"revenue"`
	TreatedRevenue          float64   `json:"treated_revenue"`
	Currency                string    `json:"currency"`
	Rate                    float64   `json:"rate"`
	TreatedRate             float64   `json:"treated_rate"`
	RevenuePerPerson        float64   `json:"revenue_per_person"`
	TreatedRevenuePerPerson float64   `json:"treated_revenue_per_person"`
	Difference              float64   `json:"difference"`
	DifferenceInterval      []float64 `json:"difference_interval"`
	Lift                    *float64  `json:"lift"`
	LiftInterval            []float64 `json:"lift_interval"`
	IncrementalConversions  float64   `json:"incremental_conversions"`
	IncrementalRevenue      float64   `json:"incremental_revenue"`
	WindowStartsAt          time.Time `json:"window_starts_at"`
	WindowEndsAt            time.Time `json:"window_ends_at"`
	WindowOpen              bool      `json:"window_open"`
	EnoughData              bool      `json:"enough_data"`
	Significant             bool      `json:"significant"`
	Method                  string    `json:"method"`
}

// Measure reads both groups of w's campaign in one statement and derives
// the rates, the lift and their intervals.
func Measure(ctx context.Context, db DBTX, w Window) (Report, error) {
	r := Report{Share: w.Share, Currency: w.Currency, WindowStartsAt: w.Start, WindowEndsAt: w.End,
		WindowOpen: w.Now.Before(w.End), Method: Method}
	rows, err := db.Query(ctx, queries.Get("measure"), w.CampaignID, w.Start, w.End, w.Currency, contacts.ConversionTypes)
	if err != nil {
		return r, fmt.Errorf("holdout lift of campaign %d: %w", w.CampaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var held bool
		var size, converted, events int64
		var revenue float64
		if err := rows.Scan(&held, &size, &converted, &events, &revenue); err != nil {
			return r, fmt.Errorf("holdout lift of campaign %d: %w", w.CampaignID, err)
		}
		if held {
			r.Size, r.Conversions, r.ConversionEvents, r.Revenue = size, converted, events, revenue
		} else {
			r.TreatedSize, r.TreatedConversions, r.TreatedConversionEvents, r.TreatedRevenue = size, converted, events, revenue
		}
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("holdout lift of campaign %d: %w", w.CampaignID, err)
	}
	r.derive()
	return r, nil
}

// derive fills the rates, the lift and the intervals from the counts.
func (r *Report) derive() {
	r.Rate, r.RevenuePerPerson = per(float64(r.Conversions), r.Size), per(r.Revenue, r.Size)
	r.TreatedRate, r.TreatedRevenuePerPerson = per(float64(r.TreatedConversions), r.TreatedSize), per(r.TreatedRevenue, r.TreatedSize)
	if r.Size == 0 || r.TreatedSize == 0 {
		return
	}
	r.Difference = r.TreatedRate - r.Rate
	lo, hi := newcombe(r.TreatedConversions, r.TreatedSize, r.Conversions, r.Size)
	r.DifferenceInterval = []float64{lo, hi}
	r.IncrementalConversions = r.Difference * float64(r.TreatedSize)
	r.IncrementalRevenue = (r.TreatedRevenuePerPerson - r.RevenuePerPerson) * float64(r.TreatedSize)
	if r.Rate > 0 {
		l := r.TreatedRate/r.Rate - 1
		r.Lift = &l
	}
	if lo, hi, ok := relativeLift(r.TreatedConversions, r.TreatedSize, r.Conversions, r.Size); ok {
		r.LiftInterval = []float64{lo, hi}
	}
	r.EnoughData = enough(r.Conversions, r.Size) && enough(r.TreatedConversions, r.TreatedSize)
	r.Significant = r.EnoughData && len(r.LiftInterval) == 2 && (r.LiftInterval[0] > 0 || r.LiftInterval[1] < 0)
}

func enough(x, n int64) bool { return x >= minOutcomes && n-x >= minOutcomes }

// per is v / n, 0 when n is 0.
func per(v float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return v / float64(n)
}
