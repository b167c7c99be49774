package campaigns

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/tracking"
)

type linkKey struct {
	step string
	idx  int
}

// readReport fills r's steps, metrics, links, timeline and rule counts in
// one round trip. Every query reads a bounded number of rows: the
// campaign's totals (a row per step, link, metric and human/machine), its
// timeline at a resolution that bounds the points, its links and rules.
func readReport(ctx context.Context, db DBTX, c Campaign, r *Report, tl timelineWindow) error {
	r.Steps = map[string]Metrics{}
	for _, st := range c.Steps {
		r.Steps[st.Key] = Metrics{}
	}
	links := map[linkKey]*LinkReport{}
	var order []linkKey
	link := func(k linkKey) *LinkReport {
		l := links[k]
		if l == nil {
			l = &LinkReport{Step: k.step, Idx: k.idx}
			links[k] = l
			order = append(order, k)
		}
		return l
	}
	r.Rules = []RuleCount{}
	b := &pgx.Batch{}
	b.Queue(`SELECT step, idx, url, name FROM campaign_links WHERE campaign_id = $1 ORDER BY step, idx`, c.ID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k linkKey
			var url, name string
			if err := rows.Scan(&k.step, &k.idx, &url, &name); err != nil {
				return err
			}
			l := link(k)
			l.URL, l.Name = url, name
		}
		return rows.Err()
	})
	queueTotals(b, c, r, link)
	queueTimeline(b, c, r, tl)
	queueRuleCounts(b, c, r)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("campaign %d report: %w", c.ID, err)
	}
	r.sumSteps()
	r.Links = make([]LinkReport, 0, len(order))
	sort.Slice(order, func(i, j int) bool {
		if order[i].step != order[j].step {
			return order[i].step < order[j].step
		}
		return order[i].idx < order[j].idx
	})
	for _, k := range order {
		l := links[k]
		l.HumanShare = ratio(l.Clicks, l.TotalClicks)
		r.Links = append(r.Links, *l)
	}
	return nil
}

// queueTotals adds the totals query to b (tracking.QueueTotals): the
// campaign's rollup_totals, which tracking keeps equal to the sums of its
// rollups in every transaction that changes them.
func queueTotals(b *pgx.Batch, c Campaign, r *Report, link func(linkKey) *LinkReport) {
	tracking.QueueTotals(b, c.ID, func(t tracking.Total) {
		step, idx, metric, machine, n, v := t.Step, t.LinkIdx, t.Metric, t.Machine, t.Count, t.Value
		if step == tracking.PeopleStep {
			addPeople(&r.people, metric, machine, n)
			return
		}
		m := r.Steps[step]
		addRollup(&m, metric, machine, n, v)
		r.Steps[step] = m
		if idx >= 0 && (metric == tracking.MetricClicks || metric == tracking.MetricLinkUniqueClicks) {
			l := link(linkKey{step, idx})
			if metric == tracking.MetricClicks {
				l.TotalClicks += n
				if !machine {
					l.Clicks += n
				}
			} else {
				l.TotalUniqueClicks += n
				if !machine {
					l.UniqueClicks += n
				}
			}
		}
	})
}

// addRollup adds one summed rollup row to m.
func addRollup(m *Metrics, metric string, machine bool, n int64, v float64) {
	human := func(total, humanCount *int64) {
		*total += n
		if !machine {
			*humanCount += n
		}
	}
	switch metric {
	case tracking.MetricSent:
		m.Sent += n
	case tracking.MetricSendBounced:
		m.Sent += n
		m.Bounced += n
	case tracking.MetricBounces:
		m.Bounced += n
	case tracking.MetricSoftBounces:
		m.SoftBounces += n
	case tracking.MetricOpens:
		human(&m.TotalOpens, &m.Opens)
	case tracking.MetricUniqueOpens:
		human(&m.TotalUniqueOpens, &m.UniqueOpens)
	case tracking.MetricClicks:
		human(&m.TotalClicks, &m.Clicks)
	case tracking.MetricUniqueClicks:
		human(&m.TotalUniqueClicks, &m.UniqueClicks)
	case tracking.MetricUnsubscribes:
		m.Unsubscribes += n
	case tracking.MetricComplaints:
		m.Complaints += n
	case tracking.MetricConversions:
		m.Conversions += n
	case tracking.MetricRevenue:
		// All currencies together: only the timeline draws it; the
		// report's revenue comes from the per-currency rows below.
	case tracking.MetricConverted:
		m.Converted += n
	default:
		if cur, ok := strings.CutPrefix(metric, tracking.MetricRevenueIn); ok {
			if m.RevenueByCurrency == nil {
				m.RevenueByCurrency = map[string]float64{}
			}
			m.RevenueByCurrency[cur] += v
		}
	}
}

// addPeople adds one summed people rollup row to p.
func addPeople(p *Metrics, metric string, machine bool, n int64) {
	both := func(total, human *int64) {
		*total += n
		if !machine {
			*human += n
		}
	}
	switch metric {
	case tracking.MetricPeopleSent:
		p.Recipients += n
	case tracking.MetricPeopleBounced:
		p.RecipientsBounced += n
	case tracking.MetricPeopleOpens:
		both(&p.TotalUniqueOpens, &p.UniqueOpens)
	case tracking.MetricPeopleClicks:
		both(&p.TotalUniqueClicks, &p.UniqueClicks)
	case tracking.MetricPeopleUnsubscribes:
		p.Unsubscribes += n
	case tracking.MetricPeopleComplaints:
		p.Complaints += n
	case tracking.MetricPeopleConverted:
		p.Converted += n
	}
}

// queueRuleCounts adds the count of the campaign's rule firings by rule
// and outcome to b; rules that never fired count 0.
func queueRuleCounts(b *pgx.Batch, c Campaign, r *Report) {
	b.Queue(`SELECT rule_name,
			count(*) FILTER (WHERE status = 'fired'), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'skipped')
		FROM rule_firings WHERE campaign_id = $1 GROUP BY rule_name ORDER BY rule_name`, c.ID).Query(func(rows pgx.Rows) error {
		seen := map[string]bool{}
		for rows.Next() {
			var rc RuleCount
			if err := rows.Scan(&rc.Name, &rc.Fired, &rc.Failed, &rc.Skipped); err != nil {
				return err
			}
			seen[rc.Name] = true
			r.Rules = append(r.Rules, rc)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, rule := range c.Rules {
			if !seen[rule.Name] {
				r.Rules = append(r.Rules, RuleCount{Name: rule.Name})
			}
		}
		return nil
	})
}
