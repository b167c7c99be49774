package campaigns

import (
	"context"
	"sort"
	"time"

	"github.com/peykar/peykar/campaigns/holdout"
)

// Report is a campaign's performance, in the API's shape.
type Report struct {
	CampaignID int64              `json:"campaign_id"`
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	LaunchedAt *time.Time         `json:"launched_at,omitempty"`
	Progress   Progress           `json:"progress"`
	Metrics    Metrics            `json:"metrics"`
	Steps      map[string]Metrics `json:"steps"`
	Links      []LinkReport       `json:"links"`
	Timeline   []TimelinePoint    `json:"timeline"`
	// TimelineResolution is "minute" or "hour": what each timeline point
	// spans (see ReportOptions).
	TimelineResolution string       `json:"timeline_resolution"`
	Goals              []GoalResult `json:"goals"`
	Rules              []RuleCount  `json:"rules"`
	// StepDeliveries are, by step key, the step's deliveries created and
	// waiting (the journey map's numbers).
	StepDeliveries map[string]StepDeliveries `json:"step_deliveries"`
	// Holdout compares the campaign's holdout group with the people it
	// was sent to (settings.holdout; absent without one, or before launch).
	Holdout *holdout.Report `json:"holdout,omitempty"`
	// Variants are the A/B test's variants and their standing, and ABTest
	// the test's state (abtest_standing.go); absent without a test.
	Variants []VariantResult `json:"variants,omitempty"`
	ABTest   *ABTestState    `json:"ab_test,omitempty"`
	// AsOf is set when the report was read from a replica: its data is at
	// least as new as the primary's at AsOf (the page says "as of 2 s
	// ago"). Absent when read from the primary, which is exact now.
	AsOf *time.Time `json:"as_of,omitempty"`

	// people are the campaign-level people counters (tracking's people_*
	// rollups), which Metrics' campaign-level rates divide.
	people Metrics
	// currency is the campaign's reporting currency.
	currency string
}

// Metrics are the campaign's counters and the rates derived from them
// (industry definitions; a zero denominator gives 0; docs/metrics.md).
// Opens, clicks and their unique counts are human traffic; the total_*
// fields include machine traffic (scanners, image proxies, prefetchers).
// For a step, a recipient is a delivery of that step; for the campaign, a
// recipient is a person across all steps, so its unique counts and rates
// count people and do not fall when follow-ups go out. The expr tags name
// them for goal predicates.
type Metrics struct {
	Sent                int64   `json:"sent" expr:"sent"`
	Delivered           int64   `json:"delivered" expr:"delivered"`
	Bounced             int64   `json:"bounced" expr:"bounced"`
	Opens               int64   `json:"opens" expr:"opens"`
	UniqueOpens         int64   `json:"unique_opens" expr:"unique_opens"`
	Clicks              int64   `json:"clicks" expr:"clicks"`
	UniqueClicks        int64   `json:"unique_clicks" expr:"unique_clicks"`
	Unsubscribes        int64   `json:"unsubscribes" expr:"unsubscribes"`
	Complaints          int64   `json:"complaints" expr:"complaints"`
	Conversions         int64   `json:"conversions" expr:"conversions"`
	Revenue             float64 `json:"revenue" expr:"revenue"`
	OpenRate            float64 `json:"open_rate" expr:"open_rate"`
	CTR                 float64 `json:"ctr" expr:"ctr"`
	CTOR                float64 `json:"ctor" expr:"ctor"`
	UnsubscribeRate     float64 `json:"unsubscribe_rate" expr:"unsubscribe_rate"`
	BounceRate          float64 `json:"bounce_rate" expr:"bounce_rate"`
	ConversionRate      float64 `json:"conversion_rate" expr:"conversion_rate"`
	RevenuePerRecipient float64 `json:"revenue_per_recipient" expr:"revenue_per_recipient"`
	TotalOpens          int64   `json:"total_opens" expr:"total_opens"`
	TotalUniqueOpens    int64   `json:"total_unique_opens" expr:"total_unique_opens"`
	TotalClicks         int64   `json:"total_clicks" expr:"total_clicks"`
	TotalUniqueClicks   int64   `json:"total_unique_clicks" expr:"total_unique_clicks"`
	TotalOpenRate       float64 `json:"total_open_rate" expr:"total_open_rate"`
	TotalCTR            float64 `json:"total_ctr" expr:"total_ctr"`
	TotalCTOR           float64 `json:"total_ctor" expr:"total_ctor"`
	// Converted counts recipients (deliveries) with at least one attributed
	// conversion; conversion_rate is converted / delivered.
	Converted   int64 `json:"converted" expr:"converted"`
	SoftBounces int64 `json:"soft_bounces" expr:"soft_bounces"`
	// Recipients are the people sent at least one message (for a step: its
	// sent messages); RecipientsBounced those of them with no message
	// delivered; RecipientsDelivered = recipients − recipients_bounced, the
	// denominator of every "per delivered" rate.
	Recipients          int64 `json:"recipients" expr:"recipients"`
	RecipientsDelivered int64 `json:"recipients_delivered" expr:"recipients_delivered"`
	RecipientsBounced   int64 `json:"recipients_bounced" expr:"recipients_bounced"`
	// Currency is the reporting currency (the campaign's settings.currency
	// or the operator's default): Revenue and RevenuePerRecipient are in
	// it. RevenueByCurrency has the revenue in every currency seen; it is
	// never summed across currencies. Goals compare numbers, so neither
	// is a goal name (expr "-").
	Currency          string             `json:"currency" expr:"-"`
	RevenueByCurrency map[string]float64 `json:"revenue_by_currency" expr:"-"`
}

// LinkReport is one tracked link's clicks.
type LinkReport struct {
	Step              string  `json:"step"`
	Idx               int     `json:"idx"`
	URL               string  `json:"url"`
	Name              string  `json:"name"`
	Clicks            int64   `json:"clicks"`              // human
	UniqueClicks      int64   `json:"unique_clicks"`       // recipients with a human click
	TotalClicks       int64   `json:"total_clicks"`        // human and machine
	TotalUniqueClicks int64   `json:"total_unique_clicks"` // recipients with any click
	HumanShare        float64 `json:"human_share"`         // clicks / total_clicks
}

// TimelinePoint is one interval of the timeline: a minute or an hour
// (Report.TimelineResolution).
type TimelinePoint struct {
	At          time.Time `json:"at"`
	Sends       int64     `json:"sends"`
	Opens       int64     `json:"opens"`  // human
	Clicks      int64     `json:"clicks"` // human
	Conversions int64     `json:"conversions"`
	Revenue     float64   `json:"revenue"`
	// Partial is true for the current interval, which has not ended: its
	// counts are so far, not the interval's (pages draw it apart).
	Partial bool `json:"partial,omitempty"`
}

// RuleCount is how often a follow-up rule fired, and what it has
// scheduled that has not run yet.
type RuleCount struct {
	Name    string `json:"name"`
	Fired   int64  `json:"fired"`
	Failed  int64  `json:"failed"`
	Skipped int64  `json:"skipped"`
	// Waiting (a timer rule's) are the deliveries whose check is still to
	// come: the rule fires for those that are still unopened (unclicked,
	// unconverted) then.
	Waiting int64 `json:"waiting"`
	// Delayed are, by step, the sends this rule scheduled that wait out
	// its delay (absent when none wait).
	Delayed map[string]int64 `json:"delayed,omitempty"`
}

// StepDeliveries are a launched campaign's deliveries of one step: Created,
// and Waiting, those without a final outcome yet (queued, waiting out a
// follow-up's delay, held, or being sent).
type StepDeliveries struct {
	Created int64 `json:"created"`
	Waiting int64 `json:"waiting"`
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// deriveStep fills a step's recipients (one delivery per person and step:
// its messages) and rates.
func (m *Metrics) deriveStep() {
	m.Recipients, m.RecipientsBounced = m.Sent, m.Bounced
	m.derive()
}

// derive fills delivered and the rates from the counters and recipients.
func (m *Metrics) derive() {
	m.Delivered = m.Sent - m.Bounced
	m.RecipientsDelivered = m.Recipients - m.RecipientsBounced
	d := m.RecipientsDelivered
	m.OpenRate = ratio(m.UniqueOpens, d)
	m.CTR = ratio(m.UniqueClicks, d)
	m.CTOR = ratio(m.UniqueClicks, m.UniqueOpens)
	m.TotalOpenRate = ratio(m.TotalUniqueOpens, d)
	m.TotalCTR = ratio(m.TotalUniqueClicks, d)
	m.TotalCTOR = ratio(m.TotalUniqueClicks, m.TotalUniqueOpens)
	m.UnsubscribeRate = ratio(m.Unsubscribes, d)
	m.BounceRate = ratio(m.RecipientsBounced, m.Recipients)
	m.ConversionRate = ratio(m.Converted, d)
	m.RevenuePerRecipient = 0
	if d > 0 {
		m.RevenuePerRecipient = m.Revenue / float64(d)
	}
}

// usePeople replaces m's (summed over steps) recipient counts with the
// campaign's people counters p.
func (m *Metrics) usePeople(p Metrics) {
	m.Recipients, m.RecipientsBounced = p.Recipients, p.RecipientsBounced
	m.UniqueOpens, m.TotalUniqueOpens = p.UniqueOpens, p.TotalUniqueOpens
	m.UniqueClicks, m.TotalUniqueClicks = p.UniqueClicks, p.TotalUniqueClicks
	m.Unsubscribes, m.Complaints, m.Converted = p.Unsubscribes, p.Complaints, p.Converted
}

// add adds o's counters to m (rates are derived afterwards).
func (m *Metrics) add(o Metrics) {
	m.Sent += o.Sent
	m.Bounced += o.Bounced
	m.SoftBounces += o.SoftBounces
	m.Opens += o.Opens
	m.UniqueOpens += o.UniqueOpens
	m.Clicks += o.Clicks
	m.UniqueClicks += o.UniqueClicks
	m.Unsubscribes += o.Unsubscribes
	m.Complaints += o.Complaints
	m.Conversions += o.Conversions
	m.Converted += o.Converted
	for cur, v := range o.RevenueByCurrency {
		if m.RevenueByCurrency == nil {
			m.RevenueByCurrency = map[string]float64{}
		}
		m.RevenueByCurrency[cur] += v
	}
	m.TotalOpens += o.TotalOpens
	m.TotalUniqueOpens += o.TotalUniqueOpens
	m.TotalClicks += o.TotalClicks
	m.TotalUniqueClicks += o.TotalUniqueClicks
}

// Report assembles the campaign's report with the default timeline
// (ReportWith).
func (s *Service) Report(ctx context.Context, id int64) (Report, error) {
	return s.ReportWith(ctx, id, ReportOptions{})
}

// ReportWith assembles the campaign's report. It reads the campaign's
// rollup totals and hourly timeline (whose sizes grow with steps, links
// and time, not with recipients or events), a bounded window of minute
// rollups when o asks for minutes, its links and rule counts. Invalid
// options are an errs.Invalid error.
func (s *Service) ReportWith(ctx context.Context, id int64, o ReportOptions) (Report, error) {
	db, asOf, c, err := s.readCampaign(ctx, id)
	if err != nil {
		return Report{}, err
	}
	w, err := o.window(c, s.now())
	if err != nil {
		return Report{}, err
	}
	p, err := s.progressOn(ctx, db, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{CampaignID: id, Name: c.Name, Status: c.Status, LaunchedAt: c.LaunchedAt, Progress: p, currency: s.reportingCurrency(c), AsOf: asOfPtr(asOf)}
	if err := readReport(ctx, db, c, &r, w); err != nil {
		return Report{}, err
	}
	r.markPartial(s.now())
	r.Goals = EvaluateGoals(c.Goals, r.Metrics, s.now())
	if err := s.readFlow(ctx, db, c, &r); err != nil {
		return Report{}, err
	}
	if err := s.readHoldout(ctx, c, &r); err != nil {
		return Report{}, err
	}
	if err := abReport(ctx, s.Pool, &c, &r); err != nil {
		return Report{}, err
	}
	return r, nil
}

// sumSteps fills r.Metrics from r.Steps (messages and events) and the
// people counters (recipients and their unique actions), and derives
// every rate: per step over its deliveries, for the campaign over people.
func (r *Report) sumSteps() {
	keys := make([]string, 0, len(r.Steps))
	for k := range r.Steps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	r.Metrics = Metrics{}
	for _, k := range keys {
		m := r.Steps[k]
		m.useCurrency(r.currency)
		m.deriveStep()
		r.Steps[k] = m
		r.Metrics.add(m)
	}
	r.Metrics.usePeople(r.people)
	r.Metrics.useCurrency(r.currency)
	r.Metrics.derive()
}
