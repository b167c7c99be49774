package tracking

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// People metrics count recipients across all steps of a campaign (a
// person who got the main step and a resend counts once). They live in the
// rollups with step PeopleStep and link -1; the report's campaign-level
// rates divide them (docs/metrics.md). The opens and clicks counters have
// a human row and a machine row (people with machine traffic only), like
// the per-step unique counters.
const (
	PeopleStep               = ""
	MetricPeopleSent         = "people_sent"         // people sent at least one message
	MetricPeopleBounced      = "people_bounced"      // people sent messages, none of them delivered
	MetricPeopleOpens        = "people_opens"        // people who opened any step
	MetricPeopleClicks       = "people_clicks"       // people who clicked in any step
	MetricPeopleUnsubscribes = "people_unsubscribes" // people who unsubscribed from any step
	MetricPeopleComplaints   = "people_complaints"   // people who complained about any step
	MetricPeopleConverted    = "people_converted"    // people with an attributed conversion
)

// MetricRevenueIn prefixes the per-currency revenue metric: a conversion
// worth 10 EUR adds 10 to the value of metric "revenue:EUR" (and to the
// all-currency "revenue" that the timeline draws). A conversion without a
// currency counts under "revenue:".
const MetricRevenueIn = "revenue:"

// person is one (campaign, contact) pair whose campaign-level state may
// have changed.
type person struct{ campaign, contact int64 }

// peopleDelta is how one people counter changes when a person's state
// changes from old (o*) to new (n*) in peopleRefreshSQL's changed rows.
type peopleDelta struct {
	metric  string
	machine bool
	n       string // SQL: the change, from the o* and n* columns
}

// peopleDeltas is the one table of the people counters: the metric names
// in peopleRefreshSQL come from it, hence from the Go constants.
var peopleDeltas = []peopleDelta{
	{MetricPeopleSent, false, "c.ns::int - c.os::int"},
	{MetricPeopleBounced, false, "(c.ns AND NOT c.nd)::int - (c.os AND NOT c.od)::int"},
	{MetricPeopleOpens, false, "(c.no = 2)::int - (c.oo = 2)::int"},
	{MetricPeopleOpens, true, "(c.no = 1)::int - (c.oo = 1)::int"},
	{MetricPeopleClicks, false, "(c.nc = 2)::int - (c.oc = 2)::int"},
	{MetricPeopleClicks, true, "(c.nc = 1)::int - (c.oc = 1)::int"},
	{MetricPeopleUnsubscribes, false, "c.nu::int - c.ou::int"},
	{MetricPeopleComplaints, false, "c.ncm::int - c.ocm::int"},
	{MetricPeopleConverted, false, "c.ncv::int - c.ocv::int"},
}

// peopleDeltaValues renders peopleDeltas as the rows of a VALUES list.
func peopleDeltaValues() string {
	rows := make([]string, len(peopleDeltas))
	for i, d := range peopleDeltas {
		rows[i] = fmt.Sprintf("\t\t\t(%s, %t, %s)", quoteLiteral(d.metric), d.machine, d.n)
	}
	return strings.Join(rows, ",\n")
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// peopleRefreshSQL recomputes each locked person from their deliveries
// (a handful of rows: one per step), stores what changed and adds the
// change to the people_* rollups (rollups.go). It runs as a statement after the lock,
// so it sees every transaction that held these rows before.
var peopleRefreshSQL = applySQL(peopleRefreshCTEs, peopleRefreshSrc)

// peopleRefreshCTEs and peopleRefreshSrc are peopleRefreshSQL's parts.
var peopleRefreshCTEs = `agg AS (
		SELECT d.campaign_id, d.contact_id,
			bool_or(d.sent_at IS NOT NULL) AS sent,
			bool_or(d.sent_at IS NOT NULL AND d.bounced_at IS NULL) AS delivered,
			(CASE WHEN bool_or(d.first_open_at IS NOT NULL) THEN 2 WHEN bool_or(d.first_machine_open_at IS NOT NULL) THEN 1 ELSE 0 END)::smallint AS opened,
			(CASE WHEN bool_or(d.first_click_at IS NOT NULL) THEN 2 WHEN bool_or(d.first_machine_click_at IS NOT NULL) THEN 1 ELSE 0 END)::smallint AS clicked,
			bool_or(d.unsubscribed_at IS NOT NULL) AS unsubscribed,
			bool_or(d.complained_at IS NOT NULL) AS complained,
			bool_or(d.converted_at IS NOT NULL) AS converted
		FROM unnest($1::bigint[], $2::bigint[]) AS u(c, p)
		JOIN deliveries d ON d.campaign_id = u.c AND d.contact_id = u.p
		GROUP BY 1, 2
	), changed AS (
		UPDATE campaign_people p SET sent = a.sent, delivered = a.delivered, opened = a.opened, clicked = a.clicked,
			unsubscribed = a.unsubscribed, complained = a.complained, converted = a.converted
		FROM agg a JOIN campaign_people o ON o.campaign_id = a.campaign_id AND o.contact_id = a.contact_id
		WHERE p.campaign_id = a.campaign_id AND p.contact_id = a.contact_id
			AND (o.sent, o.delivered, o.opened, o.clicked, o.unsubscribed, o.complained, o.converted)
				IS DISTINCT FROM (a.sent, a.delivered, a.opened, a.clicked, a.unsubscribed, a.complained, a.converted)
		RETURNING p.campaign_id, o.sent AS os, o.delivered AS od, o.opened AS oo, o.clicked AS oc,
			o.unsubscribed AS ou, o.complained AS ocm, o.converted AS ocv,
			a.sent AS ns, a.delivered AS nd, a.opened AS no, a.clicked AS nc,
			a.unsubscribed AS nu, a.complained AS ncm, a.converted AS ncv
	), delta AS (
		SELECT c.campaign_id, v.metric, v.machine, sum(v.n) AS n FROM changed c CROSS JOIN LATERAL (VALUES
` + peopleDeltaValues() + `
		) AS v(metric, machine, n)
		GROUP BY 1, 2, 3 HAVING sum(v.n) <> 0
	)`

var peopleRefreshSrc = `SELECT campaign_id AS c, ''::text AS s, -1 AS l, metric AS m, date_trunc('minute', $3::timestamptz, 'UTC') AS b,
		machine AS mc, n::bigint AS n, 0::numeric(18, 4) AS v FROM delta`

// queuePeopleLock queues the creation and locking of ps's people rows.
func queuePeopleLock(b *pgx.Batch, ps []person) {
	if len(ps) == 0 {
		return
	}
	camps, conts := peopleArrays(ps)
	b.Queue(query("people_insert"), camps, conts)
	b.Queue(query("people_lock"), camps, conts)
}

// queuePeopleRefresh queues the refresh of ps (locked by queuePeopleLock
// earlier in the same transaction) from their deliveries as they are after
// this transaction's updates; at is the minute their changes count in.
func queuePeopleRefresh(b *pgx.Batch, ps []person, at time.Time) {
	if len(ps) == 0 {
		return
	}
	camps, conts := peopleArrays(ps)
	b.Queue(peopleRefreshSQL, camps, conts, at.UTC())
}

// peopleArrays returns ps sorted and deduplicated, as parallel arrays.
func peopleArrays(ps []person) (camps, conts []int64) {
	sorted := append([]person(nil), ps...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].campaign != sorted[j].campaign {
			return sorted[i].campaign < sorted[j].campaign
		}
		return sorted[i].contact < sorted[j].contact
	})
	for i, p := range sorted {
		if i > 0 && p == sorted[i-1] {
			continue
		}
		camps, conts = append(camps, p.campaign), append(conts, p.contact)
	}
	return camps, conts
}
