package tracking

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// The tracking writer's batch changes step counters (its events) and, when
// a delivery's state changed, people counters (peopleRefreshSQL). Both go
// to the same three rollup tables; one statement for both saves a
// statement per batch and a second pass over the campaign's hottest rows.
// Rows are locked in the order two statements locked them (every step row,
// then every people row, each in key order), so it cannot deadlock with a
// writer that still sends them apart (the send outcomes).

// peopleLast orders a campaign's people rows (step PeopleStep) after every
// step row.
const peopleLast = "(s = '" + PeopleStep + "'), "

// rollupsAndPeopleSQL is peopleRefreshSQL ($1 campaigns, $2 contacts, $3
// the minute its changes count in) that also adds the step deltas $4 … $11
// (deltasSQL's arrays).
var rollupsAndPeopleSQL = applySQLOrdered(peopleRefreshCTEs, peopleRefreshSrc+`
	UNION ALL
	SELECT c, s, l, m, date_trunc('minute', b, 'UTC'), mc, n, v::numeric(18, 4)
	FROM unnest($4::bigint[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::bool[], $10::bigint[], $11::float8[])
		AS u(c, s, l, m, b, mc, n, v)`, peopleLast)

// queueRollupsAndPeople queues the batch's step counters and the refresh
// of ps (locked earlier in the same transaction by queuePeopleLock), at the
// minute at, as one statement; as queueRollups then queuePeopleRefresh.
func queueRollupsAndPeople(b *pgx.Batch, st *batchState, ps []person, at time.Time) {
	if len(ps) == 0 {
		queueRollups(b, st)
		return
	}
	ds := make([]Delta, 0, len(st.rollups))
	for k, v := range st.rollups {
		if v.count != 0 || v.value != 0 {
			ds = append(ds, Delta{CampaignID: k.campaignID, Step: k.step, LinkIdx: k.linkIdx, Metric: k.metric,
				At: k.bucket, Machine: k.machine, N: v.count, Value: v.value})
		}
	}
	n := len(ds)
	camps, idxs, counts := make([]int64, n), make([]int32, n), make([]int64, n)
	steps, metrics := make([]string, n), make([]string, n)
	buckets, machine, values := make([]time.Time, n), make([]bool, n), make([]float64, n)
	for i, d := range ds {
		camps[i], steps[i], idxs[i], metrics[i] = d.CampaignID, d.Step, int32(d.LinkIdx), d.Metric
		buckets[i], machine[i], counts[i], values[i] = d.At.UTC(), d.Machine, d.N, d.Value
	}
	pc, pp := peopleArrays(ps)
	b.Queue(rollupsAndPeopleSQL, pc, pp, at.UTC(), camps, steps, idxs, metrics, buckets, machine, counts, values)
}

// queuePeopleUpsertLock is queuePeopleLock in one statement
// (people_upsert_lock).
func queuePeopleUpsertLock(b *pgx.Batch, ps []person) {
	if len(ps) == 0 {
		return
	}
	camps, conts := peopleArrays(ps)
	b.Queue(query("people_upsert_lock"), camps, conts)
}
