package campaigns

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Variant is one version of a step in an A/B(/n) test: it may override the
// step's template, its subject (a template string, personalised like the
// template's own) and the sender's display name.
type Variant struct {
	Key        string `json:"key"`
	TemplateID int64  `json:"template_id,omitempty"`
	Subject    string `json:"subject,omitempty"`
	FromName   string `json:"from_name,omitempty"`
}

// ABTest is a campaign's A/B(/n) test: TestShare of the audience (split
// evenly across the step's variants) gets the test; when Duration has
// passed the winner by Metric goes to the rest (Winner "auto"), or the
// marketer picks it (Winner "manual").
type ABTest struct {
	Step      string  `json:"step"`
	TestShare float64 `json:"test_share"`
	Metric    string  `json:"metric"`
	Duration  string  `json:"duration"`
	Winner    string  `json:"winner"`
}

// The winning metrics of an A/B test.
const (
	ABMetricOpenRate   = "open_rate"
	ABMetricCTR        = "ctr"
	ABMetricConversion = "conversion_rate"
	ABMetricRevenue    = "revenue_per_recipient"
)

// The ways an A/B test's winner is chosen.
const (
	ABWinnerAuto   = "auto"
	ABWinnerManual = "manual"
)

// Bounds of a step's variants.
const (
	MinVariants = 2
	MaxVariants = 5
)

var abMetrics = []string{ABMetricOpenRate, ABMetricCTR, ABMetricConversion, ABMetricRevenue}

var variantKey = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,7}$`)

// DurationValue parses Duration (validated on save).
func (t *ABTest) DurationValue() time.Duration {
	d, _ := time.ParseDuration(t.Duration)
	return d
}

// StepVariants returns the variants of the step called key (nil: none).
func (c *Campaign) StepVariants(key string) []Variant {
	for _, s := range c.Steps {
		if s.Key == key {
			return s.Variants
		}
	}
	return nil
}

// VariantOf returns the variant called key of step (false: none).
func (c *Campaign) VariantOf(step, key string) (Variant, bool) {
	for _, v := range c.StepVariants(step) {
		if v.Key == key {
			return v, true
		}
	}
	return Variant{}, false
}

// Assign places a contact in the campaign's A/B test: whether it is in the
// test group and, if so, the index of its variant among n. It is a pure
// function of the campaign's and the contact's ids (a SHA-256 of both, no
// random state), so a page that runs again assigns everyone the same way;
// the launch records the assignment as well (deliveries.variant and
// ab_remainder). One uniform draw u in [0, 1) decides both: u < share puts
// the contact in the test, and u / share, itself uniform on [0, 1) then,
// spreads the test group evenly across the variants.
func (t *ABTest) Assign(campaignID, contactID int64, n int) (variant int, test bool) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(campaignID))
	binary.BigEndian.PutUint64(b[8:], uint64(contactID))
	sum := sha256.Sum256(b[:])
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
	if u >= t.TestShare || n < 1 {
		return 0, false
	}
	return min(int(u/t.TestShare*float64(n)), n-1), true
}

// sameStep reports whether two steps send the same (the template and the
// variants).
func sameStep(a, b Step) bool {
	return a.Key == b.Key && a.TemplateID == b.TemplateID && slices.Equal(a.Variants, b.Variants)
}

// sameABTest reports whether two campaigns run the same A/B test.
func sameABTest(a, b *ABTest) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// checkExperiment adds the mistakes of the steps' variants and of the A/B
// test to p, with field paths such as steps[0].variants[1].template_id.
func (c *Campaign) checkExperiment(p *problems) {
	for i := range c.Steps {
		c.checkVariants(p, i)
	}
	t := c.ABTest
	if t == nil {
		for i, s := range c.Steps {
			if len(s.Variants) > 0 {
				p.add(errs.Field(fmt.Sprintf("steps[%d].variants", i), "variants need the campaign's ab_test to say how they are tested"))
			}
		}
		return
	}
	t.Metric = strings.TrimSpace(t.Metric)
	t.Winner = strings.TrimSpace(t.Winner)
	if t.Winner == "" {
		t.Winner = ABWinnerAuto
	}
	if t.Metric == "" {
		t.Metric = ABMetricCTR
	}
	switch {
	case len(c.Steps) == 0 || t.Step != c.Steps[0].Key:
		p.add(errs.Field("ab_test.step", "must be the campaign's first step (the one its launch sends)"))
	case len(c.Steps[0].Variants) < MinVariants:
		p.add(errs.Field("ab_test.step", "step %q needs %d to %d variants", t.Step, MinVariants, MaxVariants))
	}
	for i, s := range c.Steps {
		if i > 0 && len(s.Variants) > 0 {
			p.add(errs.Field(fmt.Sprintf("steps[%d].variants", i), "only the A/B test's step (the first) can have variants"))
		}
	}
	if !(t.TestShare > 0 && t.TestShare <= 1) { // NaN fails too
		p.add(errs.Field("ab_test.test_share", "must be a share above 0 and at most 1, such as 0.2"))
	}
	if !slices.Contains(abMetrics, t.Metric) {
		p.add(errs.Field("ab_test.metric", "must be one of %s", strings.Join(abMetrics, ", ")))
	}
	if d, err := time.ParseDuration(t.Duration); err != nil || d <= 0 {
		p.add(errs.Field("ab_test.duration", "must be a positive duration such as 4h"))
	}
	if t.Winner != ABWinnerAuto && t.Winner != ABWinnerManual {
		p.add(errs.Field("ab_test.winner", "must be %q or %q", ABWinnerAuto, ABWinnerManual))
	}
	if c.Triggered() {
		p.add(errs.Field("ab_test", "a triggered campaign cannot run an A/B test: its audience has no end to split"))
	}
}

// checkVariants checks the variants of step i.
func (c *Campaign) checkVariants(p *problems, i int) {
	vs := c.Steps[i].Variants
	f := fmt.Sprintf("steps[%d].variants", i)
	if len(vs) == 0 {
		c.Steps[i].Variants = nil
		return
	}
	if len(vs) < MinVariants || len(vs) > MaxVariants {
		p.add(errs.Field(f, "a step has %d to %d variants, not %d", MinVariants, MaxVariants, len(vs)))
	}
	seen := map[string]bool{}
	for j := range vs {
		v := &vs[j]
		vf := fmt.Sprintf("%s[%d]", f, j)
		v.Key = strings.TrimSpace(v.Key)
		switch {
		case !variantKey.MatchString(v.Key):
			p.add(errs.Field(vf+".key", "must be a capital letter followed by up to 7 capital letters or digits, such as A or B2"))
		case seen[v.Key]:
			p.add(errs.Field(vf+".key", "%q is used twice", v.Key))
		}
		seen[v.Key] = true
		if v.TemplateID < 0 {
			p.add(errs.Field(vf+".template_id", "must be a template's id (leave it out to use the step's template)"))
		}
		v.Subject = strings.TrimSpace(v.Subject)
		if err := safetext.Line(vf+".subject", v.Subject); err != nil {
			p.add(err)
		} else if utf8.RuneCountInString(v.Subject) > 500 {
			p.add(errs.Field(vf+".subject", "is longer than 500 characters"))
		}
		v.FromName = strings.TrimSpace(v.FromName)
		if err := safetext.Line(vf+".from_name", v.FromName); err != nil {
			p.add(err)
		} else if utf8.RuneCountInString(v.FromName) > maxFromNameLen {
			p.add(errs.Field(vf+".from_name", "is longer than %d characters", maxFromNameLen))
		}
	}
}

// VariantLinkOffset spaces the tracked links of variants with templates
// of their own: variant j's link i is recorded as the step's link
// (j+1)*VariantLinkOffset+i, so a click finds its own variant's URL.
const VariantLinkOffset = 1000

// VariantTemplate returns the template variant v of s sends and the
// offset of its links among the step's recorded links (0: the step's own
// template).
func (s Step) VariantTemplate(v string) (templateID int64, linkOffset int) {
	for j, x := range s.Variants {
		if x.Key == v && x.TemplateID != 0 && x.TemplateID != s.TemplateID {
			return x.TemplateID, (j + 1) * VariantLinkOffset
		}
	}
	return s.TemplateID, 0
}
