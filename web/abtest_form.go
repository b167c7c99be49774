package web

import (
	"fmt"
	"strconv"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// abMetrics are the A/B test editor's metric choices.
var abMetrics = []string{campaigns.ABMetricCTR, campaigns.ABMetricOpenRate, campaigns.ABMetricConversion, campaigns.ABMetricRevenue}

// VariantRows are the first step's variants, as the editor shows them.
func (f campaignForm) VariantRows() []campaigns.Variant {
	if len(f.Steps) == 0 {
		return nil
	}
	return f.Steps[0].Variants
}

// AB is the campaign's A/B test for the editor (the zero test: none).
func (f campaignForm) AB() campaigns.ABTest {
	if f.ABTest == nil {
		return campaigns.ABTest{}
	}
	return *f.ABTest
}

// ABShare is the test share as typed ("" without a test).
func (f campaignForm) ABShare() string {
	if f.ABTest == nil {
		return ""
	}
	return strconv.FormatFloat(f.ABTest.TestShare, 'f', -1, 64)
}

// ABMetrics are the metric choices.
func (campaignForm) ABMetrics() []string { return abMetrics }

// NoVariant is the blank variant row the page adds from.
func (campaignForm) NoVariant() campaigns.Variant { return campaigns.Variant{} }

// maxVariantRows bounds the variant rows a form may post.
const maxVariantRows = campaigns.MaxVariants + 5

// readABTest reads the A/B test section: the variants of the first step
// (steps[0].variants[i].*, empty rows dropped) and ab_test.*. A test is
// set when any of its fields or a variant is given; what is wrong is
// reported by the campaign's validation at the fields.
func readABTest(v func(string) string, cp *campaigns.Campaign, fail func(*errs.Error)) {
	n, _ := strconv.Atoi(v("variants.count"))
	var vs []campaigns.Variant
	for i := range min(max(n, 0), maxVariantRows) {
		p := fmt.Sprintf("steps[0].variants[%d].", i)
		x := campaigns.Variant{Key: v(p + "key"), Subject: v(p + "subject"), FromName: v(p + "from_name")}
		if s := v(p + "template_id"); s != "" {
			x.TemplateID, _ = strconv.ParseInt(s, 10, 64)
		}
		if x != (campaigns.Variant{}) {
			vs = append(vs, x)
		}
	}
	share, metric, duration, winner := v("ab_test.test_share"), v("ab_test.metric"), v("ab_test.duration"), v("ab_test.winner")
	if len(vs) == 0 && share == "" && duration == "" {
		return // no test (the metric and winner selects always post)
	}
	t := &campaigns.ABTest{Metric: metric, Duration: duration, Winner: winner}
	if share != "" {
		s, err := strconv.ParseFloat(share, 64)
		if err != nil {
			fail(errs.Field("ab_test.test_share", "must be a share above 0 and at most 1, such as 0.2"))
		}
		t.TestShare = s
	}
	if len(cp.Steps) > 0 {
		t.Step = cp.Steps[0].Key
		cp.Steps[0].Variants = vs
	}
	cp.ABTest = t
}
