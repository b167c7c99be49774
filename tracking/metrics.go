package tracking

import "strings"

// Split is a counter kept apart for people and machines: Human counts
// the human rows, Total both.
type Split struct {
	Human, Total int64
}

func (s *Split) add(machine bool, n int64) {
	s.Total += n
	if !machine {
		s.Human += n
	}
}

// Counts are rollup rows summed by metric. Counts.Add is the one place a
// rollup metric name is turned into a number: the reports (campaigns'
// report and timeline, campaigns/reports' standard report) add their rows
// here and read the fields, instead of each switching over the names.
// Counters without a Split count human and machine rows alike (only the
// engagement counters have machine rows).
type Counts struct {
	Deliveries, Sent, SendBounced, Failed, Skipped int64
	Bounces, SoftBounces, Complaints, Unsubscribes int64
	Honeypots                                      int64
	Opens, UniqueOpens, Clicks, UniqueClicks       Split
	LinkUniqueClicks                               Split
	Conversions                                    int64
	Converted                                      int64   // deliveries with an attributed conversion
	Revenue                                        float64 // all currencies together (the timeline's)
	RevenueIn                                      map[string]float64

	// The people counters (step PeopleStep).
	PeopleSent, PeopleBounced, PeopleUnsubscribes int64
	PeopleComplaints, PeopleConverted             int64
	PeopleOpens, PeopleClicks                     Split
}

// Add adds one summed rollup row: n of metric (machine rows apart), with
// value v (revenue). Metrics it does not know are ignored.
func (c *Counts) Add(metric string, machine bool, n int64, v float64) {
	if p := c.plain(metric); p != nil {
		*p += n
		return
	}
	if s := c.split(metric); s != nil {
		s.add(machine, n)
		return
	}
	switch {
	case metric == MetricRevenue:
		c.Revenue += v
	case strings.HasPrefix(metric, MetricRevenueIn):
		if c.RevenueIn == nil {
			c.RevenueIn = map[string]float64{}
		}
		c.RevenueIn[strings.TrimPrefix(metric, MetricRevenueIn)] += v
	}
}

func (c *Counts) plain(metric string) *int64 {
	switch metric {
	case MetricDeliveries:
		return &c.Deliveries
	case MetricSent:
		return &c.Sent
	case MetricSendBounced:
		return &c.SendBounced
	case MetricFailed:
		return &c.Failed
	case MetricSkipped:
		return &c.Skipped
	case MetricBounces:
		return &c.Bounces
	case MetricSoftBounces:
		return &c.SoftBounces
	case MetricComplaints:
		return &c.Complaints
	case MetricUnsubscribes:
		return &c.Unsubscribes
	case MetricHoneypots:
		return &c.Honeypots
	case MetricConversions:
		return &c.Conversions
	case MetricConverted:
		return &c.Converted
	case MetricPeopleSent:
		return &c.PeopleSent
	case MetricPeopleBounced:
		return &c.PeopleBounced
	case MetricPeopleUnsubscribes:
		return &c.PeopleUnsubscribes
	case MetricPeopleComplaints:
		return &c.PeopleComplaints
	case MetricPeopleConverted:
		return &c.PeopleConverted
	}
	return nil
}

func (c *Counts) split(metric string) *Split {
	switch metric {
	case MetricOpens:
		return &c.Opens
	case MetricUniqueOpens:
		return &c.UniqueOpens
	case MetricClicks:
		return &c.Clicks
	case MetricUniqueClicks:
		return &c.UniqueClicks
	case MetricLinkUniqueClicks:
		return &c.LinkUniqueClicks
	case MetricPeopleOpens:
		return &c.PeopleOpens
	case MetricPeopleClicks:
		return &c.PeopleClicks
	}
	return nil
}

// AllSent is every message the server took or refused at send time (sent
// plus refused for good).
func (c *Counts) AllSent() int64 { return c.Sent + c.SendBounced }

// AllBounced is every bounce: refused at send time and bounced later.
func (c *Counts) AllBounced() int64 { return c.SendBounced + c.Bounces }
