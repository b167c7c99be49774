package tracking

import (
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// A batch of clicks and opens moves its people's campaign-level state
// (campaign_people) only up: a delivery's first open or click, its
// unsubscribe, complaint or conversion is set, never cleared. A person's
// state is the maximum over their deliveries (peopleRefreshCTEs' agg), so
// when every changed delivery of a person only went up, their new state is
// the maximum of their locked row and those deliveries as the batch leaves
// them: computed here, without reading their deliveries again, and written
// only when it differs (issue 22: the refresh from deliveries was the
// fold's costliest statement). A person with a delivery that went down (a
// click reclassified as a machine's) or whose delivered state may change
// (a hard bounce), or who has no row yet, is refreshed from their
// deliveries as before.

// peopleState is one person's tracked state, as in campaign_people: opened
// and clicked are 0 (none), 1 (machine only) or 2 (a human).
type peopleState struct {
	opened, clicked                     int16
	unsubscribed, complained, converted bool
}

// peopleOf is the part of d's state that its person's row aggregates.
func peopleOf(d *delivery) peopleState {
	return peopleState{
		opened:       int16(cat(d.firstOpen != nil, d.firstMOpen != nil)),
		clicked:      int16(cat(d.firstClick != nil, d.firstMClick != nil)),
		unsubscribed: d.unsubscribed != nil,
		complained:   d.complained != nil,
		converted:    d.convertedAt != nil,
	}
}

// atLeast reports whether s is s0 or above in every field.
func (s peopleState) atLeast(s0 peopleState) bool {
	return s.opened >= s0.opened && s.clicked >= s0.clicked && (s.unsubscribed || !s0.unsubscribed) &&
		(s.complained || !s0.complained) && (s.converted || !s0.converted)
}

// join is the field-wise maximum of s and o.
func (s peopleState) join(o peopleState) peopleState {
	return peopleState{
		opened: max(s.opened, o.opened), clicked: max(s.clicked, o.clicked),
		unsubscribed: s.unsubscribed || o.unsubscribed, complained: s.complained || o.complained, converted: s.converted || o.converted,
	}
}

// upOnly reports whether the batch moved d's people state only up and
// left what decides delivered (its bounce) as it was.
func (d *delivery) upOnly() bool {
	return (d.bouncedAt != nil) == d.origBounced && peopleOf(d).atLeast(d.origPeople)
}

// peoplePlan is a batch's dirty people split by how their rows are
// brought up to date.
type peoplePlan struct {
	all     []person               // every dirty person, sorted (locked in this order)
	reached map[person]peopleState // per person whose changes all went up: the join of their changed deliveries
	rows    map[person]peopleState // locked rows' state, as read by people_lock_state

	// Set by queueRows for queueCounters: the people refreshed from their
	// deliveries, and the people counters' changes of the others.
	refresh []person
	deltas  []Delta
}

// planPeople lists the batch's dirty people and, for those whose deliveries
// only went up, what those deliveries reach.
func (st *batchState) planPeople() *peoplePlan {
	p := &peoplePlan{reached: map[person]peopleState{}, rows: map[person]peopleState{}}
	refresh := map[person]bool{}
	for _, d := range st.dels {
		if !d.dirty {
			continue
		}
		k := person{d.campaignID, d.contactID}
		p.all = append(p.all, k)
		if refresh[k] || !d.upOnly() {
			refresh[k] = true
			delete(p.reached, k)
			continue
		}
		p.reached[k] = p.reached[k].join(peopleOf(d))
	}
	sort.Slice(p.all, func(i, j int) bool {
		if p.all[i].campaign != p.all[j].campaign {
			return p.all[i].campaign < p.all[j].campaign
		}
		return p.all[i].contact < p.all[j].contact
	})
	// A person with several changed deliveries (steps) once.
	p.all = slices.Compact(p.all)
	return p
}

// queueLockState queues the lock of every dirty person's existing row, in
// key order (the order every writer locks them in), reading their state.
func (p *peoplePlan) queueLockState(b *pgx.Batch) {
	if len(p.all) == 0 {
		return
	}
	camps, conts := peopleArrays(p.all)
	b.Queue(query("people_lock_state"), camps, conts).Query(func(rows pgx.Rows) error {
		var k person
		var s peopleState
		_, err := pgx.ForEachRow(rows, []any{&k.campaign, &k.contact, &s.opened, &s.clicked, &s.unsubscribed, &s.complained, &s.converted}, func() error {
			p.rows[k] = s
			return nil
		})
		return err
	})
}

// queueRows queues, once the rows are locked and read, the new state of
// the people whose changes all went up (only the rows that change) and the
// lock of the others' rows, creating those that do not exist (an insert
// waits for another writer's insert of the same row). at is the minute the
// people counters change in.
func (p *peoplePlan) queueRows(b *pgx.Batch, at time.Time) {
	var (
		camps, conts                   []int64
		opened, clicked                []int16
		unsubscribed, complained, conv []bool
		sums                           = map[int64][]int64{}
	)
	for _, k := range p.all {
		reached, up := p.reached[k]
		old, exists := p.rows[k]
		if !up || !exists {
			p.refresh = append(p.refresh, k)
			continue
		}
		s := old.join(reached)
		if s == old {
			continue
		}
		camps, conts = append(camps, k.campaign), append(conts, k.contact)
		opened, clicked = append(opened, s.opened), append(clicked, s.clicked)
		unsubscribed, complained, conv = append(unsubscribed, s.unsubscribed), append(complained, s.complained), append(conv, s.converted)
		sum := sums[k.campaign]
		if sum == nil {
			sum = make([]int64, len(peopleDeltas))
			sums[k.campaign] = sum
		}
		addPeopleDeltas(sum, old, s)
	}
	if len(camps) > 0 {
		b.Queue(query("people_set_tracked"), camps, conts, opened, clicked, unsubscribed, complained, conv)
	}
	queuePeopleUpsertLock(b, p.refresh)
	for _, c := range sortedKeys(sums) {
		for i, n := range sums[c] {
			if n != 0 {
				d := peopleDeltas[i]
				p.deltas = append(p.deltas, Delta{CampaignID: c, Step: PeopleStep, LinkIdx: -1, Metric: d.metric, Machine: d.machine, At: at, N: n})
			}
		}
	}
}

// queueCounters queues, after the step rollups (the order every writer
// locks rollup rows in), the people counters' changes computed by
// queueRows and the refresh of the other people from their deliveries, in
// one statement.
func (p *peoplePlan) queueCounters(b *pgx.Batch, at time.Time) {
	queueCreatedAndRefresh(b, p.deltas, p.refresh, at)
}

// addPeopleDeltas adds to sum (peopleDeltas' order) the change of every
// people counter when a person goes from o to n; sent and delivered do not
// change here (upOnly).
func addPeopleDeltas(sum []int64, o, n peopleState) {
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	for i, d := range peopleDeltas {
		switch d.metric {
		case MetricPeopleOpens:
			lvl := int16(catHuman)
			if d.machine {
				lvl = int16(catMachine)
			}
			sum[i] += b(n.opened == lvl) - b(o.opened == lvl)
		case MetricPeopleClicks:
			lvl := int16(catHuman)
			if d.machine {
				lvl = int16(catMachine)
			}
			sum[i] += b(n.clicked == lvl) - b(o.clicked == lvl)
		case MetricPeopleUnsubscribes:
			sum[i] += b(n.unsubscribed) - b(o.unsubscribed)
		case MetricPeopleComplaints:
			sum[i] += b(n.complained) - b(o.complained)
		case MetricPeopleConverted:
			sum[i] += b(n.converted) - b(o.converted)
		}
	}
}

func sortedKeys(m map[int64][]int64) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
