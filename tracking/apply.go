package tracking

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// delivery is the locked state of one delivery while a batch is applied.
type delivery struct {
	id, campaignID, contactID int64
	step, status              string
	sentAt                    *time.Time
	firstOpen, firstMOpen     *time.Time
	firstClick, firstMClick   *time.Time
	honeypot, unsubscribed    *time.Time
	bouncedAt, complained     *time.Time
	convertedAt               *time.Time
	links                     map[int]*linkState // clicks so far, by link
	dirty                     bool
	// As loaded, for people_fold.go: what its person's row aggregates,
	// and whether it was bounced.
	origPeople  peopleState
	origBounced bool
}

// linkState is what is known of one delivery's clicks on one link.
type linkState struct {
	human, machine bool
	last           time.Time
}

// category of a delivery (or a delivery's link) for unique counts: none, a
// machine only, or a human. Human unique rows count recipients with a human
// event; machine unique rows count recipients with machine events only, so
// human + machine is the total of recipients with any.
type category int

const (
	catNone category = iota
	catMachine
	catHuman
)

func cat(human, machine bool) category {
	switch {
	case human:
		return catHuman
	case machine:
		return catMachine
	}
	return catNone
}

// rollupKey is one rollups row.
type rollupKey struct {
	campaignID int64
	step       string
	linkIdx    int
	metric     string
	bucket     time.Time
	machine    bool
}

type rollupVal struct {
	count int64
	value float64
}

// rollups aggregates a batch's counter changes so each key is upserted once.
type rollups map[rollupKey]*rollupVal

func (r rollups) add(d *delivery, linkIdx int, metric string, at time.Time, machine bool, n int64, value float64) {
	k := rollupKey{d.campaignID, d.step, linkIdx, metric, at.UTC().Truncate(time.Minute), machine}
	v := r[k]
	if v == nil {
		v = &rollupVal{}
		r[k] = v
	}
	v.count += n
	v.value += value
}

// moveUnique records a change of category in unique counts.
func (r rollups) moveUnique(d *delivery, linkIdx int, metric string, at time.Time, from, to category) {
	if from == to {
		return
	}
	if from != catNone {
		r.add(d, linkIdx, metric, at, from == catMachine, -1, 0)
	}
	if to != catNone {
		r.add(d, linkIdx, metric, at, to == catMachine, 1, 0)
	}
}

// contactDelta is a batch's change to one contact's stats and status.
type contactDelta struct {
	opens, clicks       int
	lastOpen, lastClick *time.Time
	status              string // "", unsubscribed, bounced or complained
}

// retro is a window of a delivery's already stored clicks to reclassify as
// machine traffic (a honeypot hit or a burst seen after the fact).
type retro struct {
	d        *delivery
	from, to time.Time
	reason   string
}

// batchState is everything one batch computes before writing.
type batchState struct {
	dels     map[int64]*delivery
	camps    map[int64]campaignInfo
	ids      []int64 // preallocated event ids, one per event
	rollups  rollups
	contacts map[int64]*contactDelta
	retros   []retro
	jobs     []river.InsertManyParams
}

// applier applies batches of events inside a caller's transaction.
type applier struct {
	links *LinkCache
	river *river.Client[pgx.Tx]
	now   func() time.Time // the service's clock (Config.Now)
	// remember is told each delivery and campaign seen, for redirects while
	// the database is down.
	remember func(d *delivery, ci campaignInfo)
}

// apply records evs in tx: the events, the deliveries' firsts, rollups,
// contact stats and rule jobs. It returns one outcome and one error per
// event (ErrNotFound for unknown deliveries or links); a returned error
// means the transaction must be rolled back.
func (a *applier) apply(ctx context.Context, tx pgx.Tx, evs []*Event) ([]Outcome, []error, error) {
	outs, errsOut, _, rest, err := a.applyWith(ctx, &pgx.Batch{}, func(b *pgx.Batch) (pgx.Tx, error) {
		return tx, tx.SendBatch(ctx, b).Close()
	}, evs)
	if err != nil {
		return nil, nil, err
	}
	if rest.Len() > 0 {
		if err := tx.SendBatch(ctx, rest).Close(); err != nil {
			return nil, nil, fmt.Errorf("write events, deliveries, contacts and rollups: %w", err)
		}
	}
	return outs, errsOut, nil
}

// applyWith is apply in as few round trips as the batch allows: the
// locking statements are queued on first and sent by send, which returns
// the transaction they ran in (so first may begin it), and the writing
// statements come back unsent in rest (so the caller may send its COMMIT
// with them). A batch without follow-up rule jobs or reclassifications
// costs three round trips. tx is nil when send failed before a
// transaction existed.
func (a *applier) applyWith(ctx context.Context, first *pgx.Batch, send func(*pgx.Batch) (pgx.Tx, error), evs []*Event) (outs []Outcome, errsOut []error, tx pgx.Tx, rest *pgx.Batch, err error) {
	outs = make([]Outcome, len(evs))
	errsOut = make([]error, len(evs))
	st := queueLock(first, evs)
	if tx, err = send(first); err != nil {
		return nil, nil, tx, nil, fmt.Errorf("load deliveries: %w", err)
	}
	if err := tx.SendBatch(ctx, queueContext(st, evs)).Close(); err != nil {
		return nil, nil, tx, nil, fmt.Errorf("load campaigns and click history: %w", err)
	}
	if err := a.resolveLinks(ctx, tx, st, evs, outs, errsOut); err != nil {
		return nil, nil, tx, nil, err
	}
	a.classify(st, evs, errsOut)
	a.account(st, evs, outs, errsOut)
	if rest, err = a.write(ctx, tx, st, evs, errsOut); err != nil {
		return nil, nil, tx, nil, err
	}
	return outs, errsOut, tx, rest, nil
}

// queueLock queues on b the batch's first reads: its deliveries, locked in
// id order, so concurrent writers never deadlock and firsts and unique
// counts stay exact (NO KEY UPDATE: inserts of rows referencing a
// delivery, such as events and transactions, are not blocked), and its
// events' ids (unless the events bring theirs: all or none do). The results land in the returned state once b is sent.
func queueLock(b *pgx.Batch, evs []*Event) *batchState {
	st := &batchState{dels: map[int64]*delivery{}, camps: map[int64]campaignInfo{}, rollups: rollups{}, contacts: map[int64]*contactDelta{}}
	idSet := map[int64]bool{}
	for _, ev := range evs {
		idSet[ev.DeliveryID] = true
	}
	b.Queue(`SELECT id, campaign_id, step, contact_id, status, sent_at, first_open_at, first_machine_open_at,
		first_click_at, first_machine_click_at, honeypot_at, unsubscribed_at, bounced_at, complained_at, converted_at
		FROM deliveries WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, keys(idSet)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			d := &delivery{}
			if err := rows.Scan(&d.id, &d.campaignID, &d.step, &d.contactID, &d.status, &d.sentAt, &d.firstOpen, &d.firstMOpen,
				&d.firstClick, &d.firstMClick, &d.honeypot, &d.unsubscribed, &d.bouncedAt, &d.complained, &d.convertedAt); err != nil {
				return err
			}
			d.links = map[int]*linkState{}
			d.origPeople, d.origBounced = peopleOf(d), d.bouncedAt != nil
			st.dels[d.id] = d
		}
		return rows.Err()
	})
	if len(evs) > 0 && evs[0].id != 0 {
		// Ids taken when the events were answered (the follower's).
		for _, ev := range evs {
			st.ids = append(st.ids, ev.id)
		}
		return st
	}
	b.Queue(query("event_ids"), len(evs)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			st.ids = append(st.ids, id)
		}
		return rows.Err()
	})
	return st
}

// queueContext returns, for the locked deliveries, the reads that need
// them: their campaigns and the click history of those clicked before that
// are clicked again (each read through events_delivery_idx). Reading them
// by id after the lock is cheaper than joining deliveries again.
func queueContext(st *batchState, evs []*Event) *pgx.Batch {
	b := &pgx.Batch{}
	campSet, clicked := map[int64]bool{}, map[int64]bool{}
	for _, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if d == nil {
			continue
		}
		campSet[d.campaignID] = true
		if (ev.Type == TypeClick || ev.Type == TypeHoneypot) && (d.firstClick != nil || d.firstMClick != nil) {
			clicked[d.id] = true
		}
	}
	if len(campSet) > 0 {
		b.Queue(query("campaign_documents"), keys(campSet)).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id int64
				var rules, settings []byte
				if err := rows.Scan(&id, &rules, &settings); err != nil {
					return err
				}
				st.camps[id] = parseCampaign(rules, settings)
			}
			return rows.Err()
		})
	}
	if len(clicked) > 0 {
		ids := keys(clicked)
		links := func(rows pgx.Rows) error {
			for rows.Next() {
				var id int64
				var idx *int32
				ls := &linkState{}
				if err := rows.Scan(&id, &idx, &ls.human, &ls.machine, &ls.last); err != nil {
					return err
				}
				if d := st.dels[id]; d != nil && idx != nil {
					d.links[int(*idx)] = ls
				}
			}
			return rows.Err()
		}
		r := splitClicked(ids, clickedSince(st, ids))
		if len(r.recent) > 0 {
			b.Queue(query("clicked_links"), r.recent, r.bound).Query(links)
		}
		if len(r.older) > 0 {
			b.Queue(query("clicked_links_each"), r.older, r.olderSince).Query(links)
		}
	}
	return b
}

// resolveLinks finds each click's destination and refuses unknown
// deliveries and links.
func (a *applier) resolveLinks(ctx context.Context, tx pgx.Tx, st *batchState, evs []*Event, outs []Outcome, errsOut []error) error {
	var need []linkKey
	for i, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if d == nil {
			errsOut[i] = ErrNotFound
			continue
		}
		if ev.Type == TypeClick && ev.URL == "" {
			k := linkKey{d.campaignID, d.step}
			if _, ok := a.links.lookup(k, ev.LinkIdx); !ok {
				need = append(need, k)
			}
		}
	}
	if len(need) > 0 {
		if err := a.links.fetch(ctx, tx, need); err != nil {
			return err
		}
	}
	for i, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if d == nil {
			continue
		}
		ci := st.camps[d.campaignID]
		if a.remember != nil {
			a.remember(d, ci)
		}
		outs[i] = Outcome{CampaignID: d.campaignID, Step: d.step, ContactID: d.contactID, UTM: ci.utm}
		if ev.Type != TypeClick {
			continue
		}
		if ev.URL != "" {
			outs[i].URL = ev.URL
			continue
		}
		u, ok := a.links.lookup(linkKey{d.campaignID, d.step}, ev.LinkIdx)
		if !ok {
			errsOut[i] = ErrNotFound
			continue
		}
		outs[i].URL = u
	}
	return nil
}

// classify adds the timing rules to the user-agent verdicts: too soon after
// sending, link bursts and honeypot hits (which also reclassify the clicks
// around them).
func (a *applier) classify(st *batchState, evs []*Event, errsOut []error) {
	flip := func(d *delivery, from, to time.Time, reason string, upto int) {
		for j := 0; j < upto; j++ {
			e := evs[j]
			if errsOut[j] == nil && e.DeliveryID == d.id && e.Type == TypeClick && !e.Machine && !e.At.Before(from) && !e.At.After(to) {
				e.Machine, e.Reason = true, reason
			}
		}
		st.retros = append(st.retros, retro{d, from, to, reason})
	}
	for i, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if errsOut[i] != nil || d == nil {
			continue
		}
		switch ev.Type {
		case TypeOpen:
			if !ev.Machine && tooSoon(d.sentAt, ev.At) {
				ev.Machine, ev.Reason = true, ReasonTooSoon
			}
		case TypeClick:
			if !ev.Machine {
				switch {
				case tooSoon(d.sentAt, ev.At):
					ev.Machine, ev.Reason = true, ReasonTooSoon
				case d.honeypot != nil && absDur(ev.At.Sub(*d.honeypot)) <= HoneypotWindow:
					ev.Machine, ev.Reason = true, ReasonHoneypot
				}
			}
			recent := 1
			for idx, ls := range d.links {
				if idx != ev.LinkIdx && absDur(ls.last.Sub(ev.At)) <= BurstWindow {
					recent++
				}
			}
			if recent >= BurstLinks {
				if !ev.Machine {
					ev.Machine, ev.Reason = true, ReasonBurst
				}
				flip(d, ev.At.Add(-BurstWindow), ev.At.Add(BurstWindow), ReasonBurst, i)
			}
			ls := d.links[ev.LinkIdx]
			if ls == nil {
				ls = &linkState{}
				d.links[ev.LinkIdx] = ls
			}
			if ev.At.After(ls.last) {
				ls.last = ev.At
			}
		case TypeHoneypot:
			ev.Machine, ev.Reason = true, ReasonHoneypot
			at := ev.At
			d.honeypot, d.dirty = &at, true
			flip(d, at.Add(-HoneypotWindow), at.Add(HoneypotWindow), ReasonHoneypot, i)
		}
	}
}

// account computes firsts, unique counts, rollups, contact stats and rule
// jobs, event by event in order.
func (a *applier) account(st *batchState, evs []*Event, outs []Outcome, errsOut []error) {
	for i, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if errsOut[i] != nil || d == nil {
			continue
		}
		outs[i].EventID, outs[i].Machine, outs[i].Reason = st.ids[i], ev.Machine, ev.Reason
		at, m := ev.At, ev.Machine
		cd := st.contact(d.contactID)
		switch ev.Type {
		case TypeOpen:
			st.rollups.add(d, -1, MetricOpens, at, m, 1, 0)
			before := cat(d.firstOpen != nil, d.firstMOpen != nil)
			// The earliest, not the first folded: an event can be applied
			// after a later one (two writer loops, the follower taking a
			// late commit in its next batch).
			if m && (d.firstMOpen == nil || at.Before(*d.firstMOpen)) {
				d.firstMOpen, d.dirty = &at, true
			} else if !m && (d.firstOpen == nil || at.Before(*d.firstOpen)) {
				d.firstOpen, d.dirty = &at, true
			}
			st.rollups.moveUnique(d, -1, MetricUniqueOpens, at, before, cat(d.firstOpen != nil, d.firstMOpen != nil))
			if !m {
				cd.opens++
				cd.lastOpen = later(cd.lastOpen, at)
			}
		case TypeClick:
			st.rollups.add(d, ev.LinkIdx, MetricClicks, at, m, 1, 0)
			before := cat(d.firstClick != nil, d.firstMClick != nil)
			if m && (d.firstMClick == nil || at.Before(*d.firstMClick)) {
				d.firstMClick, d.dirty = &at, true
			} else if !m && (d.firstClick == nil || at.Before(*d.firstClick)) {
				d.firstClick, d.dirty = &at, true
			}
			st.rollups.moveUnique(d, -1, MetricUniqueClicks, at, before, cat(d.firstClick != nil, d.firstMClick != nil))
			ls := d.links[ev.LinkIdx]
			lb := cat(ls.human, ls.machine)
			if m {
				ls.machine = true
			} else {
				ls.human = true
			}
			st.rollups.moveUnique(d, ev.LinkIdx, MetricLinkUniqueClicks, at, lb, cat(ls.human, ls.machine))
			if !m {
				cd.clicks++
				cd.lastClick = later(cd.lastClick, at)
			}
		case TypeUnsubscribe:
			if d.unsubscribed == nil {
				d.unsubscribed, d.dirty = &at, true
				st.rollups.add(d, -1, MetricUnsubscribes, at, false, 1, 0)
			}
			if !ev.TopicsOnly {
				cd.raise("unsubscribed")
			}
		case TypeHoneypot:
			st.rollups.add(d, -1, MetricHoneypots, at, true, 1, 0)
		case TypeConversion:
			st.rollups.add(d, -1, MetricConversions, at, false, 1, ev.Value)
			st.rollups.add(d, -1, MetricRevenue, at, false, 0, ev.Value)
			st.rollups.add(d, -1, MetricRevenueIn+ev.Currency, at, false, 0, ev.Value)
			if d.convertedAt == nil {
				d.convertedAt, d.dirty = &at, true
				st.rollups.add(d, -1, MetricConverted, at, false, 1, 0)
			}
		case TypeBounce:
			if !ev.Hard {
				st.rollups.add(d, -1, MetricSoftBounces, at, false, 1, 0)
				break
			}
			if d.bouncedAt == nil {
				d.bouncedAt, d.dirty = &at, true
				if d.status != "complained" {
					d.status = "bounced"
				}
				st.rollups.add(d, -1, MetricBounces, at, false, 1, 0)
			}
			cd.raise("bounced")
		case TypeComplaint:
			if d.complained == nil {
				d.complained, d.status, d.dirty = &at, "complained", true
				st.rollups.add(d, -1, MetricComplaints, at, false, 1, 0)
			}
			cd.raise("complained")
		}
		ci := st.camps[d.campaignID]
		if a.river != nil && !m && ci.ruleOn[ev.Type] {
			args := RuleEventArgs{EventID: st.ids[i], DeliveryID: d.id, CampaignID: d.campaignID, ContactID: d.contactID,
				Step: d.step, Type: ev.Type, URL: outs[i].URL, Value: ev.Value, At: at}
			var opts *river.InsertOpts
			if ev.Type == TypeClick {
				idx := ev.LinkIdx
				args.LinkIdx = &idx
				// A click's verdict may still change (a burst, a honeypot
				// hit): its rules run once it cannot, and the rules worker
				// reads the stored verdict then.
				opts = &river.InsertOpts{ScheduledAt: VerdictAt(ev.Type, at)}
			}
			st.jobs = append(st.jobs, river.InsertManyParams{Args: args, InsertOpts: opts})
		}
	}
}

func (st *batchState) contact(id int64) *contactDelta {
	cd := st.contacts[id]
	if cd == nil {
		cd = &contactDelta{}
		st.contacts[id] = cd
	}
	return cd
}

// statusRank orders suppression statuses: a contact's status only ever
// moves up (an unsubscribe never downgrades a bounce or a complaint).
var statusRank = map[string]int{"": 0, "active": 0, "unsubscribed": 1, "bounced": 2, "complained": 3}

func (cd *contactDelta) raise(s string) {
	if statusRank[s] > statusRank[cd.status] {
		cd.status = s
	}
}

func later(t *time.Time, at time.Time) *time.Time {
	if t == nil || at.After(*t) {
		return &at
	}
	return t
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
