package tracking

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
)

// maxUserAgent bounds what is stored of a user agent.
const maxUserAgent = 512

// write queues a computed batch's statements: events, reclassified clicks,
// deliveries, contacts, rollups (hottest rows last, to hold their locks
// briefly) and rule jobs. What it can leave unsent comes back in rest, for
// the caller to send (and commit) in one round trip.
func (a *applier) write(ctx context.Context, tx pgx.Tx, st *batchState, evs []*Event, errsOut []error) (rest *pgx.Batch, err error) {
	b := &pgx.Batch{}
	queueEvents(b, st, evs, errsOut)
	if len(st.retros) > 0 {
		// Reclassifying reads the stored clicks, this batch's included.
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		b = &pgx.Batch{}
		for _, r := range st.retros {
			if err := a.reclassify(ctx, tx, st, r); err != nil {
				return nil, err
			}
		}
	}
	queueDeliveries(b, st)
	// The people rows are locked and read with the statements above (one
	// round trip), so the people whose deliveries only went up are brought
	// up to date from the batch (people_fold.go).
	people := st.planPeople()
	if len(people.all) > 0 {
		people.queueLockState(b)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("write events and deliveries, lock people: %w", err)
		}
		b = &pgx.Batch{}
	}
	at := latest(evs, errsOut, a.now)
	people.queueRows(b, at)
	queueContacts(b, st)
	queueRollups(b, st)
	people.queueCounters(b, at)
	if len(st.jobs) == 0 {
		return b, nil
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("write events, deliveries, contacts and rollups: %w", err)
		}
	}
	if _, err := a.river.InsertManyTx(ctx, tx, st.jobs); err != nil {
		return nil, fmt.Errorf("enqueue rule jobs: %w", err)
	}
	return &pgx.Batch{}, nil
}

// queueEvents inserts the batch's events (with their preallocated ids) in
// the same round trip as the updates that follow: one statement over
// arrays, which pgx encodes far more cheaply than COPY rows.
func queueEvents(b *pgx.Batch, st *batchState, evs []*Event, errsOut []error) {
	n := 0
	for i, ev := range evs {
		if errsOut[i] == nil && st.dels[ev.DeliveryID] != nil {
			n++
		}
	}
	if n == 0 {
		return
	}
	var (
		ids, dels, camps, contacts = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		steps, types, values       = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		reasons, agents, ips       = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		links                      = make([]*int32, 0, n)
		machine                    = make([]bool, 0, n)
		at                         = make([]time.Time, 0, n)
	)
	for i, ev := range evs {
		d := st.dels[ev.DeliveryID]
		if errsOut[i] != nil || d == nil {
			continue
		}
		ua := ev.UserAgent
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
		var idx *int32
		if ev.Type == TypeClick {
			v := int32(ev.LinkIdx)
			idx = &v
		}
		ip := ""
		if ev.IP.IsValid() {
			ip = ev.IP.String()
		}
		ids, dels, camps, contacts = append(ids, st.ids[i]), append(dels, d.id), append(camps, d.campaignID), append(contacts, d.contactID)
		steps, types, values = append(steps, d.step), append(types, ev.Type), append(values, strconv.FormatFloat(ev.Value, 'f', -1, 64))
		reasons, agents, ips = append(reasons, cleanText(ev.Reason)), append(agents, cleanText(ua)), append(ips, ip)
		links, machine, at = append(links, idx), append(machine, ev.Machine), append(at, ev.At)
	}
	b.Queue(query("insert_events"),
		ids, dels, camps, steps, contacts, types, links, values, machine, reasons, agents, ips, at)
}

// queueDeliveries queues the batch's changed deliveries (their status and
// firsts) through their owner, in the same round trip.
func queueDeliveries(b *pgx.Batch, st *batchState) {
	var t deliveries.Tracked
	for _, id := range sortedIDs(st.dels) {
		d := st.dels[id]
		if !d.dirty {
			continue
		}
		t.IDs, t.Status = append(t.IDs, d.id), append(t.Status, d.status)
		t.FirstOpen, t.FirstMachineOpen = append(t.FirstOpen, d.firstOpen), append(t.FirstMachineOpen, d.firstMOpen)
		t.FirstClick, t.FirstMachineClick = append(t.FirstClick, d.firstClick), append(t.FirstMachineClick, d.firstMClick)
		t.Honeypot, t.Unsubscribed = append(t.Honeypot, d.honeypot), append(t.Unsubscribed, d.unsubscribed)
		t.Bounced, t.Complained = append(t.Bounced, d.bouncedAt), append(t.Complained, d.complained)
		t.Converted = append(t.Converted, d.convertedAt)
	}
	deliveries.QueueSetTracked(b, t)
}

// queueContacts queues the batch's contact stats and statuses through
// their owner, package contacts, in the same batch (no round trip added).
func queueContacts(b *pgx.Batch, st *batchState) {
	ids := make([]int64, 0, len(st.contacts))
	for id := range st.contacts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var (
		e        contacts.Engagement
		suppress []int64
		status   []string
	)
	for _, id := range ids {
		cd := st.contacts[id]
		if cd.opens != 0 || cd.clicks != 0 {
			e.IDs, e.Opens, e.Clicks = append(e.IDs, id), append(e.Opens, int32(cd.opens)), append(e.Clicks, int32(cd.clicks))
			e.LastOpen, e.LastClick = append(e.LastOpen, cd.lastOpen), append(e.LastClick, cd.lastClick)
		}
		if cd.status != "" {
			suppress, status = append(suppress, id), append(status, cd.status)
		}
	}
	contacts.QueueEngagement(b, e)
	contacts.QueueStatus(b, suppress, status)
}

// queueRollups queues the batch's counter changes (rollups.go).
func queueRollups(b *pgx.Batch, st *batchState) {
	ds := make([]Delta, 0, len(st.rollups))
	for k, v := range st.rollups {
		ds = append(ds, Delta{CampaignID: k.campaignID, Step: k.step, LinkIdx: k.linkIdx, Metric: k.metric,
			At: k.bucket, Machine: k.machine, N: v.count, Value: v.value})
	}
	QueueRollups(b, ds)
}

// latest is the time of the batch's latest stored event (the minute its
// people changes count in); now's when none was stored.
func latest(evs []*Event, errsOut []error, now func() time.Time) time.Time {
	var at time.Time
	for i, ev := range evs {
		if errsOut[i] == nil && ev.At.After(at) {
			at = ev.At
		}
	}
	if at.IsZero() {
		at = now()
	}
	return at
}

func sortedIDs(m map[int64]*delivery) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// reclassify turns a delivery's stored human clicks in r's window into
// machine clicks, moving their counts and recomputing the delivery's and
// its links' unique state from the events.
func (a *applier) reclassify(ctx context.Context, tx pgx.Tx, st *batchState, r retro) error {
	d := r.d
	rows, err := tx.Query(ctx, query("reclassify_clicks"), d.id, r.from, r.to, r.reason)
	if err != nil {
		return fmt.Errorf("reclassify clicks: %w", err)
	}
	type flipped struct {
		idx int32
		at  time.Time
	}
	fl, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (flipped, error) {
		var f flipped
		err := row.Scan(&f.idx, &f.at)
		return f, err
	})
	if err != nil {
		return fmt.Errorf("reclassify clicks: %w", err)
	}
	if len(fl) == 0 {
		return nil
	}
	st.contact(d.contactID).clicks -= len(fl)
	for _, f := range fl {
		st.rollups.add(d, int(f.idx), MetricClicks, f.at, false, -1, 0)
		st.rollups.add(d, int(f.idx), MetricClicks, f.at, true, 1, 0)
	}
	// Recompute uniques from the stored clicks (this batch's included).
	rows, err = tx.Query(ctx, query("recount_clicks"), d.id)
	if err != nil {
		return fmt.Errorf("recount clicks: %w", err)
	}
	var firstH, firstM *time.Time
	now := r.to
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			var idx int32
			var h, m bool
			var fh, fm *time.Time
			if err := rows.Scan(&idx, &h, &m, &fh, &fm); err != nil {
				return err
			}
			ls := d.links[int(idx)]
			if ls == nil {
				ls = &linkState{}
				d.links[int(idx)] = ls
			}
			st.rollups.moveUnique(d, int(idx), MetricLinkUniqueClicks, now, cat(ls.human, ls.machine), cat(h, m))
			ls.human, ls.machine = h, m
			firstH, firstM = earlier(firstH, fh), earlier(firstM, fm)
		}
		return rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("recount clicks: %w", err)
	}
	st.rollups.moveUnique(d, -1, MetricUniqueClicks, now, cat(d.firstClick != nil, d.firstMClick != nil), cat(firstH != nil, firstM != nil))
	d.firstClick, d.firstMClick, d.dirty = firstH, firstM, true
	return nil
}

func earlier(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

// cleanText makes request-supplied text storable: valid UTF-8 without NUL
// bytes, which PostgreSQL text cannot hold.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
