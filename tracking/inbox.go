package tracking

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Clicks and opens take the short path (issue 22): their request's group
// commit writes only the event, to event_inbox, checked against its
// delivery, and the request is answered once that commit is durable. The
// follower (follower.go) folds the inbox into events and everything
// derived from them in large batches. The other event types (unsubscribes,
// honeypot hits, conversions, bounces, complaints: rare, and some change
// what may be sent next) keep the writer's full transaction.

// campEntry is a campaign's UTM as read at fetched.
type campEntry struct {
	utm     UTM
	fetched time.Time
}

// inboxFresh is how long a campaign's UTM read by the click path is used
// before it is read again (as long as the link cache keeps links).
const inboxFresh = time.Minute

// recordInbox writes evs (clicks and opens) to event_inbox in one implicit
// transaction and one round trip, with the reads of the deliveries and
// campaigns it has not seen recently. An event whose delivery does not
// exist is refused (ErrNotFound) and not stored. A click's destination
// comes from the link cache, read after the commit when it is cold.
func (s *Service) recordInbox(ctx context.Context, evs []*Event) ([]Outcome, []error, error) {
	outs := make([]Outcome, len(evs))
	errsOut := make([]error, len(evs))
	now := s.now()
	seen := make(map[int64]bool, len(evs))
	var unknown []int64
	for _, ev := range evs {
		if seen[ev.DeliveryID] {
			continue
		}
		seen[ev.DeliveryID] = true
		m, ok := s.metas.Peek(ev.DeliveryID)
		if ok {
			if c, ok := s.camps.Peek(m.campaignID); ok && now.Sub(c.fetched) <= inboxFresh {
				continue
			}
		}
		unknown = append(unknown, ev.DeliveryID)
	}

	n := len(evs)
	var (
		dels                         = make([]int64, n)
		types, urls, reasons, agents = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ips                          = make([]string, n)
		links                        = make([]*int32, n)
		machine                      = make([]bool, n)
		at                           = make([]time.Time, n)
	)
	for i, ev := range evs {
		ua := ev.UserAgent
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
		if ev.Type == TypeClick {
			v := int32(ev.LinkIdx)
			links[i] = &v
		}
		if ev.IP.IsValid() {
			ips[i] = ev.IP.String()
		}
		dels[i], types[i], urls[i], reasons[i], agents[i] = ev.DeliveryID, ev.Type, cleanText(ev.URL), cleanText(ev.Reason), cleanText(ua)
		machine[i], at[i] = ev.Machine, ev.At
	}

	conn, err := s.cfg.Pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	read := map[int64]deliveryMeta{}
	b := &pgx.Batch{}
	if len(unknown) > 0 {
		b.Queue(query("inbox_deliveries"), unknown).Query(func(rows pgx.Rows) error {
			var id int64
			var m deliveryMeta
			_, err := pgx.ForEachRow(rows, []any{&id, &m.campaignID, &m.step}, func() error {
				read[id] = m
				return nil
			})
			return err
		})
		b.Queue(query("inbox_campaigns"), unknown).Query(func(rows pgx.Rows) error {
			var id int64
			var settings []byte
			_, err := pgx.ForEachRow(rows, []any{&id, &settings}, func() error {
				s.camps.Add(id, campEntry{utm: parseCampaign(nil, settings).utm, fetched: now})
				return nil
			})
			return err
		})
	}
	ids := make([]int64, n)
	b.Queue(query("inbox_insert"), dels, types, links, urls, machine, reasons, agents, ips, at).Query(func(rows pgx.Rows) error {
		var ord, id int64
		_, err := pgx.ForEachRow(rows, []any{&ord, &id}, func() error {
			ids[ord-1] = id
			return nil
		})
		return err
	})
	// One Sync for the batch: its statements are one implicit transaction,
	// committed (durably) before Close returns.
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}
	var top int64
	for _, id := range ids {
		top = max(top, id)
	}
	for {
		last := s.lastInbox.Load()
		if top <= last || s.lastInbox.CompareAndSwap(last, top) {
			break
		}
	}
	for id, m := range read {
		if c, ok := s.camps.Peek(m.campaignID); ok {
			m.utm = c.utm
		}
		s.metas.Add(id, m)
	}

	var need []linkKey
	for i, ev := range evs {
		if ids[i] == 0 {
			errsOut[i] = ErrNotFound
			continue
		}
		m, _ := s.metas.Get(ev.DeliveryID)
		outs[i] = Outcome{EventID: ids[i], CampaignID: m.campaignID, Step: m.step, UTM: m.utm, Machine: ev.Machine, Reason: ev.Reason}
		if ev.Type == TypeClick && ev.URL == "" {
			if _, ok := s.links.lookup(linkKey{m.campaignID, m.step}, ev.LinkIdx); !ok {
				need = append(need, linkKey{m.campaignID, m.step})
			}
		}
	}
	// The events are stored: a link the database cannot be asked for now
	// answers ErrUnavailable (the handler redirects from memory if it
	// can), and the event is counted once folded.
	linksDown := len(need) > 0 && s.links.fetch(ctx, conn, need) != nil
	for i, ev := range evs {
		if errsOut[i] != nil || ev.Type != TypeClick {
			continue
		}
		if ev.URL != "" {
			outs[i].URL = ev.URL
			continue
		}
		u, ok := s.links.lookup(linkKey{outs[i].CampaignID, outs[i].Step}, ev.LinkIdx)
		switch {
		case ok:
			outs[i].URL = u
		case linksDown:
			errsOut[i] = ErrUnavailable
		default:
			// No such link: the follower refuses the event too, so
			// nothing is counted.
			errsOut[i] = ErrNotFound
		}
	}
	return outs, errsOut, nil
}
