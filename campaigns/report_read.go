package campaigns

import (
	"context"
	"fmt"
	"sort"

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
	b.Queue(query("report_links"), c.ID).Query(func(rows pgx.Rows) error {
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

// addRollup adds one summed rollup row to m; tracking.Counts reads the
// metric's name.
func addRollup(m *Metrics, metric string, machine bool, n int64, v float64) {
	var c tracking.Counts
	c.Add(metric, machine, n, v)
	m.Sent += c.AllSent()
	m.Bounced += c.AllBounced()
	m.SoftBounces += c.SoftBounces
	m.Opens, m.TotalOpens = m.Opens+c.Opens.Human, m.TotalOpens+c.Opens.Total
	m.UniqueOpens, m.TotalUniqueOpens = m.UniqueOpens+c.UniqueOpens.Human, m.TotalUniqueOpens+c.UniqueOpens.Total
	m.Clicks, m.TotalClicks = m.Clicks+c.Clicks.Human, m.TotalClicks+c.Clicks.Total
	m.UniqueClicks, m.TotalUniqueClicks = m.UniqueClicks+c.UniqueClicks.Human, m.TotalUniqueClicks+c.UniqueClicks.Total
	m.Unsubscribes += c.Unsubscribes
	m.Complaints += c.Complaints
	m.Conversions += c.Conversions
	m.Converted += c.Converted
	// c.Revenue (all currencies together) only the timeline draws; the
	// report's revenue comes from the per-currency rows.
	for cur, v := range c.RevenueIn {
		if m.RevenueByCurrency == nil {
			m.RevenueByCurrency = map[string]float64{}
		}
		m.RevenueByCurrency[cur] += v
	}
}

// addPeople adds one summed people rollup row to p; tracking.Counts reads
// the metric's name.
func addPeople(p *Metrics, metric string, machine bool, n int64) {
	var c tracking.Counts
	c.Add(metric, machine, n, 0)
	p.Recipients += c.PeopleSent
	p.RecipientsBounced += c.PeopleBounced
	p.UniqueOpens, p.TotalUniqueOpens = p.UniqueOpens+c.PeopleOpens.Human, p.TotalUniqueOpens+c.PeopleOpens.Total
	p.UniqueClicks, p.TotalUniqueClicks = p.UniqueClicks+c.PeopleClicks.Human, p.TotalUniqueClicks+c.PeopleClicks.Total
	p.Unsubscribes += c.PeopleUnsubscribes
	p.Complaints += c.PeopleComplaints
	p.Converted += c.PeopleConverted
}

// queueRuleCounts adds the count of the campaign's rule firings by rule
// and outcome to b; rules that never fired count 0.
func queueRuleCounts(b *pgx.Batch, c Campaign, r *Report) {
	b.Queue(query("report_rule_counts"), c.ID).Query(func(rows pgx.Rows) error {
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
