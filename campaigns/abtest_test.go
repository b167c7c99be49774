package campaigns

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

func abValid() Campaign {
	c := Campaign{Name: "AB", Steps: []Step{{Key: "main", TemplateID: 2, Variants: []Variant{
		{Key: "A", TemplateID: 2}, {Key: "B", TemplateID: 5, Subject: "Hi {{ .Contact.Name }}", FromName: "Sara"},
	}}}}
	c.ABTest = &ABTest{Step: "main", TestShare: 0.2, Metric: ABMetricOpenRate, Duration: "4h"}
	return c
}

// fields lists the field paths of err's problems.
func fields(err error) []string {
	var out []string
	for _, e := range errs.All(err) {
		out = append(out, e.Field)
	}
	return out
}

func TestABTestValidatesWithFieldPaths(t *testing.T) {
	t.Parallel()
	c := abValid()
	require.NoError(t, c.normalize())
	require.Equal(t, ABWinnerAuto, c.ABTest.Winner, "auto is the default")

	c = abValid()
	c.Steps[0].Variants[1].Key = "A"
	c.Steps[0].Variants = append(c.Steps[0].Variants, Variant{Key: "c", TemplateID: -1})
	c.ABTest = &ABTest{Step: "main", TestShare: math.NaN(), Metric: "opens", Duration: "soon", Winner: "maybe"}
	require.ElementsMatch(t, []string{
		"steps[0].variants[1].key", "steps[0].variants[2].key", "steps[0].variants[2].template_id",
		"ab_test.test_share", "ab_test.metric", "ab_test.duration", "ab_test.winner",
	}, fields(c.normalize()))

	c = abValid()
	c.Steps[0].Variants = c.Steps[0].Variants[:1]
	require.ElementsMatch(t, []string{"steps[0].variants", "ab_test.step"}, fields(c.normalize()))

	c = abValid()
	for _, k := range []string{"C", "D", "E", "F"} {
		c.Steps[0].Variants = append(c.Steps[0].Variants, Variant{Key: k})
	}
	require.Equal(t, []string{"steps[0].variants"}, fields(c.normalize()), "at most five")

	c = abValid()
	c.ABTest = nil
	require.Equal(t, []string{"steps[0].variants"}, fields(c.normalize()), "variants need a test")

	c = abValid()
	c.Steps = append(c.Steps, Step{Key: "later", TemplateID: 3, Variants: []Variant{{Key: "A"}, {Key: "B"}}})
	c.ABTest.Step = "later"
	require.ElementsMatch(t, []string{"ab_test.step", "steps[1].variants"}, fields(c.normalize()))

	c = abValid()
	c.Steps[0].Variants[1].Subject = "two\nlines"
	require.Equal(t, []string{"steps[0].variants[1].subject"}, fields(c.normalize()))
}

func TestAssignIsDeterministicAndEven(t *testing.T) {
	t.Parallel()
	test := &ABTest{TestShare: 0.2}
	counts := make([]int, 3)
	inTest := 0
	const n = 30000
	for id := int64(1); id <= n; id++ {
		v, in := test.Assign(7, id, 3)
		v2, in2 := test.Assign(7, id, 3)
		require.Equal(t, v, v2)
		require.Equal(t, in, in2)
		if in {
			inTest++
			counts[v]++
		}
	}
	// 20% of 30,000 = 6,000 ± 3 sd (sd ≈ 69); each arm 2,000 ± 3 sd (≈ 42·3).
	require.InDelta(t, 6000, inTest, 210)
	for _, k := range counts {
		require.InDelta(t, 2000, k, 130)
	}
	all := &ABTest{TestShare: 1}
	for id := int64(1); id <= 1000; id++ {
		_, in := all.Assign(7, id, 2)
		require.True(t, in, "test_share 1 puts everyone in the test")
	}
}

func TestVariantTemplateOffsetsOwnTemplatesLinks(t *testing.T) {
	t.Parallel()
	s := abValid().Steps[0]
	id, off := s.VariantTemplate("A")
	require.Equal(t, int64(2), id)
	require.Zero(t, off, "A sends the step's template")
	id, off = s.VariantTemplate("B")
	require.Equal(t, int64(5), id)
	require.Equal(t, 2*VariantLinkOffset, off)
}
