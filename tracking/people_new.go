package tracking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A send's outcome usually names people the campaign has no row for yet:
// the first message of the campaign to them. createPeople creates those
// rows with their state already computed from their deliveries (as
// peopleRefreshSQL would compute it), in one statement, so that only the
// people who already have a row pay for the lock and the refresh: a new
// row is written once instead of inserted, locked and updated (three row
// versions and their WAL).
//
// Concurrency: a row another transaction is inserting makes this INSERT
// wait for it and then skip it (ON CONFLICT DO NOTHING), so that person
// takes the lock-and-refresh path, whose statements run after the other
// transaction committed and see its changes. A row created here is not
// visible to others before this transaction commits, and its deliveries
// are locked by the caller (the lock order stays deliveries, people rows,
// step rollups, people rollups).

// peopleNewSQL inserts the people of ($1[i], $2[i]) that have no row, with
// their state from their deliveries, and returns each inserted person with
// the change of every people counter (peopleDeltas' order, from an empty
// person to the new state). agg is peopleRefreshSQL's.
var peopleNewSQL = `WITH agg AS (
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
	), ins AS (
		INSERT INTO campaign_people (campaign_id, contact_id, sent, delivered, opened, clicked, unsubscribed, complained, converted)
		SELECT * FROM agg ORDER BY 1, 2
		ON CONFLICT (campaign_id, contact_id) DO NOTHING
		RETURNING campaign_id, contact_id, sent, delivered, opened, clicked, unsubscribed, complained, converted
	)
	SELECT c.campaign_id, c.contact_id, ARRAY[` + peopleDeltaExprs() + `]::bigint[]
	FROM (SELECT campaign_id, contact_id,
		false AS os, false AS od, 0::smallint AS oo, 0::smallint AS oc, false AS ou, false AS ocm, false AS ocv,
		sent AS ns, delivered AS nd, opened AS no, clicked AS nc, unsubscribed AS nu, complained AS ncm, converted AS ncv
		FROM ins) c`

// peopleNewPlainSQL is peopleNewSQL with a plain INSERT of the people
// whose row its snapshot does not hold, for the send fold: a speculative
// insertion (ON CONFLICT) writes one more WAL record per row (its confirm)
// and costs more CPU (measured alone, 800 people per statement: 8.1 µs per
// person against 6.5; docs/benchmarks.md, "the send fold counts the
// contacts' sent messages"). A row another transaction inserted since the
// snapshot (committed, or committing while this statement waits for it)
// fails the statement with a unique violation of campaign_people_pkey
// instead of being skipped: the caller rolls back and runs peopleNewSQL
// (QueueCreatePeople) instead.
var peopleNewPlainSQL = strings.Replace(strings.Replace(peopleNewSQL,
	"SELECT * FROM agg ORDER BY 1, 2",
	`SELECT * FROM agg WHERE NOT EXISTS (SELECT 1 FROM campaign_people x
			WHERE x.campaign_id = agg.campaign_id AND x.contact_id = agg.contact_id) ORDER BY 1, 2`, 1),
	"ON CONFLICT (campaign_id, contact_id) DO NOTHING", "", 1)

// PeopleConflict reports whether err is peopleNewPlainSQL's unique
// violation: a people row that another transaction created meanwhile.
func PeopleConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "campaign_people_pkey"
}

// peopleDeltaExprs lists peopleDeltas' changes as SQL expressions over the
// o* and n* columns, in order.
func peopleDeltaExprs() string {
	exprs := make([]string, len(peopleDeltas))
	for i, d := range peopleDeltas {
		exprs[i] = d.n
	}
	return strings.Join(exprs, ", ")
}

// createPeople creates the rows of the people among ps that have none,
// and returns the others (whose rows exist: the caller locks and refreshes
// them) and the people counters' changes at at for those created.
func createPeople(ctx context.Context, tx pgx.Tx, ps []person, at time.Time) (existing []person, deltas []Delta, err error) {
	if len(ps) == 0 {
		return nil, nil, nil
	}
	pc := &peopleCreation{ps: ps, at: at}
	camps, conts := peopleArrays(ps)
	rows, err := tx.Query(ctx, peopleNewSQL, camps, conts)
	if err != nil {
		return nil, nil, fmt.Errorf("campaign people: %w", err)
	}
	if err := pc.scan(rows); err != nil {
		return nil, nil, err
	}
	existing, deltas = pc.split()
	return existing, deltas, nil
}

// peopleCreation is the answer of peopleNewSQL for ps: who it created,
// and the sums of their people counters' changes by campaign.
type peopleCreation struct {
	ps      []person
	at      time.Time
	created map[person]bool
	sums    map[int64][]int64
}

// scan reads peopleNewSQL's rows.
func (pc *peopleCreation) scan(rows pgx.Rows) error {
	pc.created = make(map[person]bool, len(pc.ps))
	pc.sums = map[int64][]int64{}
	var p person
	var ns []int64
	_, err := pgx.ForEachRow(rows, []any{&p.campaign, &p.contact, &ns}, func() error {
		pc.created[p] = true
		sum := pc.sums[p.campaign]
		if sum == nil {
			sum = make([]int64, len(peopleDeltas))
			pc.sums[p.campaign] = sum
		}
		for i, n := range ns {
			sum[i] += n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("campaign people: %w", err)
	}
	return nil
}

// split returns the people of ps not created (their rows exist) and the
// people counters' changes at at for those created.
func (pc *peopleCreation) split() (existing []person, deltas []Delta) {
	camps, conts := peopleArrays(pc.ps)
	for i := range camps {
		if q := (person{camps[i], conts[i]}); !pc.created[q] {
			existing = append(existing, q)
		}
	}
	for campaign, sum := range pc.sums {
		for i, n := range sum {
			if n != 0 {
				d := peopleDeltas[i]
				deltas = append(deltas, Delta{CampaignID: campaign, Step: PeopleStep, LinkIdx: -1, Metric: d.metric, Machine: d.machine, At: pc.at, N: n})
			}
		}
	}
	return existing, deltas
}

// peopleRefreshCreatedSQL is peopleRefreshSQL that also adds the people
// counters of the people created ($4 campaign, $5 metric, $6 machine, $7
// change): one statement writes every people rollup row in key order, so
// it cannot deadlock with another writer's.
var peopleRefreshCreatedSQL = applySQL(peopleRefreshCTEs, peopleRefreshSrc+`
	UNION ALL
	SELECT x.c, ''::text, -1, x.m, date_trunc('minute', $3::timestamptz, 'UTC'), x.mc, x.n, 0::numeric(18, 4)
	FROM unnest($4::bigint[], $5::text[], $6::bool[], $7::bigint[]) AS x(c, m, mc, n)`)

// queueCreatedAndRefresh queues the addition of the people counters'
// changes of the people created and the refresh of the existing people ps,
// in one statement (nothing when there is neither).
func queueCreatedAndRefresh(b *pgx.Batch, created []Delta, ps []person, at time.Time) {
	if len(created) == 0 {
		queuePeopleRefresh(b, ps, at)
		return
	}
	if len(ps) == 0 {
		QueueRollups(b, created)
		return
	}
	camps, conts := peopleArrays(ps)
	n := len(created)
	dc, dm, dmc, dn := make([]int64, n), make([]string, n), make([]bool, n), make([]int64, n)
	for i, d := range created {
		dc[i], dm[i], dmc[i], dn[i] = d.CampaignID, d.Metric, d.Machine, d.N
	}
	b.Queue(peopleRefreshCreatedSQL, camps, conts, at.UTC(), dc, dm, dmc, dn)
}
