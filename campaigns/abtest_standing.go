package campaigns

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/bayes"
)

// VariantResult is one variant's standing in its A/B test (report
// "variants"): its test group's numbers, the test's metric (Value: the
// observed rate or revenue per recipient; PosteriorMean, which decides),
// the 95% credible interval, the probability that it is the best, and
// whether it won.
type VariantResult struct {
	Key       string `json:"key"`
	Sent      int64  `json:"sent"`
	Delivered int64  `json:"delivered"`
	// Successes are the people the metric counts (openers, clickers,
	// converters); for revenue_per_recipient, the converters.
	Successes     int64      `json:"successes"`
	Revenue       float64    `json:"revenue"`
	Metric        string     `json:"metric"`
	Value         float64    `json:"value"`
	PosteriorMean float64    `json:"posterior_mean"`
	Interval      [2]float64 `json:"interval"`
	PBest         float64    `json:"p_best"`
	Winner        bool       `json:"winner"`
}

// ABTestState is the report's account of a campaign's A/B test.
type ABTestState struct {
	// State is testing, winner_chosen (the remainder is being sent) or
	// remainder_sent.
	State     string    `json:"state"`
	Step      string    `json:"step"`
	Metric    string    `json:"metric"`
	Mode      string    `json:"winner_mode"`
	TestShare float64   `json:"test_share"`
	StartedAt time.Time `json:"started_at"`
	EndsAt    time.Time `json:"ends_at"`
	// Leader is the variant with the highest posterior mean now.
	Leader          string     `json:"leader"`
	Winner          string     `json:"winner,omitempty"`
	ChosenAt        *time.Time `json:"chosen_at,omitempty"`
	ChosenBy        string     `json:"chosen_by,omitempty"`
	Reason          string     `json:"reason"`
	Remainder       int64      `json:"remainder"`
	RemainderSentAt *time.Time `json:"remainder_sent_at,omitempty"`
}

// The states of an A/B test.
const (
	ABStateTesting       = "testing"
	ABStateWinnerChosen  = "winner_chosen"
	ABStateRemainderSent = "remainder_sent"
)

// metricNames are the metrics' words in a reason.
var metricNames = map[string]string{
	ABMetricOpenRate: "open rate", ABMetricCTR: "click rate",
	ABMetricConversion: "conversion rate", ABMetricRevenue: "revenue per recipient",
}

// Standing computes the variants' standing in c's A/B test from the test
// group's deliveries, with revenue in currency; leader is the variant with
// the highest posterior mean (the first of equals in variant order) and
// reason says why, e.g. "B: click rate 6.1% vs 4.0% (A), 97% probability
// best".
func Standing(ctx context.Context, db DBTX, c *Campaign, currency string) (out []VariantResult, leader, reason string, err error) {
	t := c.ABTest
	if t == nil {
		return nil, "", "", nil
	}
	outs, err := deliveries.VariantOutcomes(ctx, db, c.ID, t.Step, currency)
	if err != nil {
		return nil, "", "", err
	}
	byKey := map[string]deliveries.VariantOutcome{}
	for _, o := range outs {
		byKey[o.Variant] = o
	}
	vs := c.StepVariants(t.Step)
	out = make([]VariantResult, len(vs))
	rates := make([]bayes.Rate, len(vs))
	means := make([]bayes.Mean, len(vs))
	for i, v := range vs {
		o := byKey[v.Key]
		succ := map[string]int64{ABMetricOpenRate: o.Opened, ABMetricCTR: o.Clicked, ABMetricConversion: o.Converted, ABMetricRevenue: o.Converted}[t.Metric]
		out[i] = VariantResult{Key: v.Key, Sent: o.Sent, Delivered: o.Delivered, Successes: succ, Revenue: o.Revenue, Metric: t.Metric}
		if o.Delivered > 0 {
			out[i].Value = float64(succ) / float64(o.Delivered)
			if t.Metric == ABMetricRevenue {
				out[i].Value = o.Revenue / float64(o.Delivered)
			}
		}
		rates[i] = bayes.Rate{Successes: succ, Trials: o.Delivered}
		means[i] = bayes.Mean{N: o.Delivered, Sum: o.Revenue, SumSq: o.RevenueSq}
	}
	var res []bayes.Result
	if t.Metric == ABMetricRevenue {
		res = bayes.Means(means)
	} else {
		res = bayes.Rates(rates)
	}
	best := -1
	for i, r := range res {
		out[i].PosteriorMean, out[i].Interval, out[i].PBest = r.Mean, [2]float64{r.Lo, r.Hi}, r.PBest
		if best < 0 || r.Mean > res[best].Mean {
			best = i
		}
	}
	if best < 0 {
		return out, "", "", nil
	}
	return out, out[best].Key, reasonFor(t.Metric, out, best), nil
}

// reasonFor says why variant best leads.
func reasonFor(metric string, vs []VariantResult, best int) string {
	others := make([]string, 0, len(vs)-1)
	for i, v := range vs {
		if i != best {
			others = append(others, fmt.Sprintf("%s (%s)", formatMetric(metric, v.Value), v.Key))
		}
	}
	b := vs[best]
	return fmt.Sprintf("%s: %s %s vs %s, %.0f%% probability best", b.Key, metricNames[metric],
		formatMetric(metric, b.Value), strings.Join(others, ", "), 100*b.PBest)
}

func formatMetric(metric string, v float64) string {
	if metric == ABMetricRevenue {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// abReport fills r's variants and A/B test state for c.
func abReport(ctx context.Context, db DBTX, c *Campaign, r *Report) error {
	if c.ABTest == nil {
		return nil
	}
	run, started, err := GetABRun(ctx, db, c.ID)
	if err != nil || !started {
		return err
	}
	vs, leader, reason, err := Standing(ctx, db, c, r.currency)
	if err != nil {
		return err
	}
	st := &ABTestState{State: ABStateTesting, Step: run.Step, Metric: c.ABTest.Metric, Mode: c.ABTest.Winner,
		TestShare: c.ABTest.TestShare, StartedAt: run.StartedAt, EndsAt: run.EndsAt, Leader: leader, Reason: reason,
		Winner: run.Winner, ChosenAt: run.ChosenAt, ChosenBy: run.ChosenBy, Remainder: run.Remainder, RemainderSentAt: run.RemainderSentAt}
	if run.Winner != "" {
		st.State, st.Reason = ABStateWinnerChosen, run.Reason
		if run.RemainderDone {
			st.State = ABStateRemainderSent
		}
		for i := range vs {
			vs[i].Winner = vs[i].Key == run.Winner
		}
	}
	r.Variants, r.ABTest = vs, st
	return nil
}
