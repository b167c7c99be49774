package campaigns

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/tracking"
)

type linkKey struct {
	step string
	idx  int
}

// readReport fills r's steps, metrics, links, timeline and rule counts in
// one round trip.
func readReport(ctx context.Context, db DBTX, c Campaign, r *Report) error {
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
	var hasFirings bool
	b := &pgx.Batch{}
	// The batch runs as one implicit transaction: turn JIT compilation off
	// for it (its planning costs more than these aggregates).
	b.Queue(`SELECT set_config('jit', 'off', true)`)
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
	queueRollups(b, c, r, link)
	// Converted recipients: deliveries with a conversion (few rows; the
	// events_campaign_idx index finds them).
	b.Queue(`SELECT step, count(DISTINCT delivery_id) FROM events
		WHERE campaign_id = $1 AND type = 'conversion' GROUP BY step`, c.ID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var step string
			var n int64
			if err := rows.Scan(&step, &n); err != nil {
				return err
			}
			m := r.Steps[step]
			m.Converted = n
			r.Steps[step] = m
		}
		return rows.Err()
	})
	b.Queue(`SELECT to_regclass('rule_firings') IS NOT NULL`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&hasFirings)
	})
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
	r.Rules = []RuleCount{}
	if hasFirings {
		return readRuleCounts(ctx, db, c, r)
	}
	for _, rule := range c.Rules {
		r.Rules = append(r.Rules, RuleCount{Name: rule.Name})
	}
	return nil
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
		m.Revenue += v
	}
}

// queueRollups adds the rollups query to b. One scan of the campaign's
// rollups yields both the totals per step, link, metric and human/machine
// and the timeline: per minute until the first full hour a day after
// launch (or after the first counted minute), per hour (UTC) after that.
func queueRollups(b *pgx.Batch, c Campaign, r *Report, link func(linkKey) *LinkReport) {
	r.Timeline = []TimelinePoint{}
	var edge *time.Time
	if c.LaunchedAt != nil {
		e := minuteEdge(*c.LaunchedAt)
		edge = &e
	}
	// The subquery (an init plan) only runs for campaigns never launched.
	b.Queue(`WITH edge AS (
			SELECT coalesce($2::timestamptz, (
				SELECT date_trunc('hour', x, 'UTC') + CASE WHEN x = date_trunc('hour', x, 'UTC') THEN interval '0' ELSE interval '1 hour' END
				FROM (SELECT min(bucket) + interval '1 day' AS x FROM rollups WHERE campaign_id = $1) f
			)) AS at
		)
		SELECT GROUPING(t) = 1 AS total, step, link_idx, metric, machine, t,
			sum(count)::bigint, sum(value)::float8,
			coalesce(sum(count) FILTER (WHERE metric IN ('sent', 'send_bounced')), 0)::bigint,
			coalesce(sum(count) FILTER (WHERE metric = 'opens' AND NOT machine), 0)::bigint,
			coalesce(sum(count) FILTER (WHERE metric = 'clicks' AND NOT machine), 0)::bigint,
			coalesce(sum(count) FILTER (WHERE metric = 'conversions'), 0)::bigint,
			coalesce(sum(value) FILTER (WHERE metric = 'revenue'), 0)::float8
		FROM (
			SELECT r.step, r.link_idx, r.metric, r.machine, r.count, r.value,
				CASE WHEN r.bucket < edge.at THEN r.bucket ELSE date_trunc('hour', r.bucket, 'UTC') END AS t
			FROM rollups r, edge WHERE r.campaign_id = $1
		) x
		GROUP BY GROUPING SETS ((step, link_idx, metric, machine), (t))
		ORDER BY total, t`, c.ID, edge).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var total bool
			var step, metric *string
			var idx *int
			var machine *bool
			var t *time.Time
			var n int64
			var v float64
			var p TimelinePoint
			if err := rows.Scan(&total, &step, &idx, &metric, &machine, &t, &n, &v,
				&p.Sends, &p.Opens, &p.Clicks, &p.Conversions, &p.Revenue); err != nil {
				return err
			}
			if !total {
				if p.Sends != 0 || p.Opens != 0 || p.Clicks != 0 || p.Conversions != 0 || p.Revenue != 0 {
					p.At = t.UTC()
					r.Timeline = append(r.Timeline, p)
				}
				continue
			}
			m := r.Steps[*step]
			addRollup(&m, *metric, *machine, n, v)
			r.Steps[*step] = m
			if *idx >= 0 && (*metric == tracking.MetricClicks || *metric == tracking.MetricLinkUniqueClicks) {
				l := link(linkKey{*step, *idx})
				if *metric == tracking.MetricClicks {
					l.TotalClicks += n
					if !*machine {
						l.Clicks += n
					}
				} else {
					l.TotalUniqueClicks += n
					if !*machine {
						l.UniqueClicks += n
					}
				}
			}
		}
		return rows.Err()
	})
}

// readRuleCounts counts the campaign's rule firings by rule and outcome.
func readRuleCounts(ctx context.Context, db DBTX, c Campaign, r *Report) error {
	rows, err := db.Query(ctx, `SELECT rule_name,
			count(*) FILTER (WHERE status = 'fired'), count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'skipped')
		FROM rule_firings WHERE campaign_id = $1 GROUP BY rule_name ORDER BY rule_name`, c.ID)
	if err != nil {
		return fmt.Errorf("campaign %d rule counts: %w", c.ID, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var rc RuleCount
		if err := rows.Scan(&rc.Name, &rc.Fired, &rc.Failed, &rc.Skipped); err != nil {
			return fmt.Errorf("campaign %d rule counts: %w", c.ID, err)
		}
		seen[rc.Name] = true
		r.Rules = append(r.Rules, rc)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("campaign %d rule counts: %w", c.ID, err)
	}
	for _, rule := range c.Rules {
		if !seen[rule.Name] {
			r.Rules = append(r.Rules, RuleCount{Name: rule.Name})
		}
	}
	return nil
}
