package campaigns

import (
	"context"
)

// Report is a campaign's performance, in the API's shape.
type Report struct {
	CampaignID int64    `json:"campaign_id"`
	Status     string   `json:"status"`
	Progress   Progress `json:"progress"`
	Metrics    Metrics  `json:"metrics"`
	Links      []any    `json:"links"`
	Timeline   []any    `json:"timeline"`
	Goals      []any    `json:"goals"`
}

// Metrics are the campaign's counters and the rates derived from them
// (industry definitions; a zero denominator gives 0).
type Metrics struct {
	Sent                int64   `json:"sent"`
	Delivered           int64   `json:"delivered"`
	Bounced             int64   `json:"bounced"`
	Opens               int64   `json:"opens"`
	UniqueOpens         int64   `json:"unique_opens"`
	Clicks              int64   `json:"clicks"`
	UniqueClicks        int64   `json:"unique_clicks"`
	Unsubscribes        int64   `json:"unsubscribes"`
	Complaints          int64   `json:"complaints"`
	Conversions         int64   `json:"conversions"`
	Revenue             float64 `json:"revenue"`
	OpenRate            float64 `json:"open_rate"`
	CTR                 float64 `json:"ctr"`
	CTOR                float64 `json:"ctor"`
	UnsubscribeRate     float64 `json:"unsubscribe_rate"`
	BounceRate          float64 `json:"bounce_rate"`
	ConversionRate      float64 `json:"conversion_rate"`
	RevenuePerRecipient float64 `json:"revenue_per_recipient"`
	TotalOpens          int64   `json:"total_opens"`
	TotalUniqueOpens    int64   `json:"total_unique_opens"`
	TotalClicks         int64   `json:"total_clicks"`
	TotalUniqueClicks   int64   `json:"total_unique_clicks"`
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// derive fills the rates from the counters.
func (m *Metrics) derive() {
	m.Delivered = m.Sent - m.Bounced
	m.OpenRate = ratio(m.UniqueOpens, m.Delivered)
	m.CTR = ratio(m.UniqueClicks, m.Delivered)
	m.CTOR = ratio(m.UniqueClicks, m.UniqueOpens)
	m.UnsubscribeRate = ratio(m.Unsubscribes, m.Delivered)
	m.BounceRate = ratio(m.Bounced, m.Sent)
	m.ConversionRate = ratio(m.Conversions, m.Delivered)
	if m.Delivered > 0 {
		m.RevenuePerRecipient = m.Revenue / float64(m.Delivered)
	}
}

// Report assembles the campaign's report.
func (s *Service) Report(ctx context.Context, id int64) (Report, error) {
	c, err := Get(ctx, s.Pool, id)
	if err != nil {
		return Report{}, err
	}
	p, err := s.Runtime.Progress(ctx, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{CampaignID: id, Status: c.Status, Progress: p, Links: []any{}, Timeline: []any{}, Goals: []any{}}
	// Sent counts every message handed to the mail server, including those
	// refused at once (5xx) and those that bounced later.
	r.Metrics.Sent = p.Sent + p.Bounced
	r.Metrics.Bounced = p.Bounced + p.AsyncBounced
	r.Metrics.derive()
	return r, nil
}
