package tracking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// recordInbox writes evs (clicks and opens) to event_inbox in one
// statement, committed on its own (an implicit transaction), and learns
// each event's campaign and step from the same statement. An event whose
// delivery does not exist is refused (ErrNotFound) and not stored. A
// click's destination comes from the link cache and the campaign's UTM
// from the campaign cache, read after the commit when cold (once a minute
// per campaign step).
func (s *Service) recordInbox(ctx context.Context, evs []*Event) ([]Outcome, []error, error) {
	outs := make([]Outcome, len(evs))
	errsOut := make([]error, len(evs))
	n := len(evs)
	// The arrays' elements are pgtype values read through pointers
	// (ptrArray): no allocation per event and element to encode them.
	var (
		dels                         = make(ptrArray[pgtype.Int8], n)
		types, urls, reasons, agents = make(ptrArray[pgtype.Text], n), make(ptrArray[pgtype.Text], n), make(ptrArray[pgtype.Text], n), make(ptrArray[pgtype.Text], n)
		ips                          = make(ptrArray[pgtype.Text], n)
		links                        = make(ptrArray[pgtype.Int4], n) // NULL for opens
		machine                      = make(ptrArray[pgtype.Bool], n)
		at                           = make(ptrArray[pgtype.Timestamptz], n)
	)
	for i, ev := range evs {
		ua := ev.UserAgent
		if len(ua) > maxUserAgent {
			ua = ua[:maxUserAgent]
		}
		if ev.Type == TypeClick {
			links[i] = pgtype.Int4{Int32: int32(ev.LinkIdx), Valid: true}
		}
		ip := ""
		if ev.IP.IsValid() {
			ip = ev.IP.String()
		}
		dels[i] = pgtype.Int8{Int64: ev.DeliveryID, Valid: true}
		types[i], urls[i], reasons[i], agents[i], ips[i] = text(ev.Type), text(cleanText(ev.URL)), text(cleanText(ev.Reason)), text(cleanText(ua)), text(ip)
		machine[i] = pgtype.Bool{Bool: ev.Machine, Valid: true}
		at[i] = pgtype.Timestamptz{Time: ev.At, Valid: true}
	}

	conn, err := s.cfg.Pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, query("inbox_insert"), dels, types, links, urls, machine, reasons, agents, ips, at)
	if err != nil {
		return nil, nil, err
	}
	var ord, id int64
	var m deliveryMeta
	var top int64
	_, err = pgx.ForEachRow(rows, []any{&ord, &id, &m.campaignID, &m.step}, func() error {
		i := ord - 1
		outs[i] = Outcome{EventID: id, CampaignID: m.campaignID, Step: m.step, Machine: evs[i].Machine, Reason: evs[i].Reason}
		top = max(top, id)
		return nil
	})
	// The statement ran alone, outside a transaction: once its rows are
	// read without error, it is committed (durably).
	if err != nil {
		return nil, nil, err
	}
	for {
		last := s.lastInbox.Load()
		if top <= last || s.lastInbox.CompareAndSwap(last, top) {
			break
		}
	}

	now := s.now()
	var stale []int64
	var need []linkKey
	for i, ev := range evs {
		o := &outs[i]
		if o.EventID == 0 {
			errsOut[i] = ErrNotFound
			continue
		}
		if c, ok := s.camps.Get(o.CampaignID); !ok || now.Sub(c.fetched) > inboxFresh {
			stale = append(stale, o.CampaignID)
		}
		if ev.Type == TypeClick && ev.URL == "" {
			if _, ok := s.links.lookup(linkKey{o.CampaignID, o.Step}, ev.LinkIdx); !ok {
				need = append(need, linkKey{o.CampaignID, o.Step})
			}
		}
	}
	// The events are stored: a campaign or a link the database cannot be
	// asked for now answers ErrUnavailable (the click handler redirects
	// from memory if it can), and the event is counted once folded.
	campsDown := len(stale) > 0 && s.readCampaigns(ctx, conn, stale, now) != nil
	linksDown := len(need) > 0 && s.links.fetch(ctx, conn, need) != nil
	for i, ev := range evs {
		o := &outs[i]
		if errsOut[i] != nil {
			continue
		}
		c, ok := s.camps.Get(o.CampaignID)
		if !ok && campsDown {
			errsOut[i] = ErrUnavailable
			continue
		}
		o.UTM = c.utm
		s.remember(ev.DeliveryID, deliveryMeta{campaignID: o.CampaignID, step: o.Step, utm: o.UTM})
		if ev.Type != TypeClick {
			continue
		}
		if ev.URL != "" {
			o.URL = ev.URL
			continue
		}
		u, ok := s.links.lookup(linkKey{o.CampaignID, o.Step}, ev.LinkIdx)
		switch {
		case ok:
			o.URL = u
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

// text is s as a non-NULL text value ("" included, as a []string
// parameter would send it).
func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: true} }

// readCampaigns reads the UTM settings of campaigns ids into the cache.
func (s *Service) readCampaigns(ctx context.Context, db DBTX, ids []int64, now time.Time) error {
	rows, err := db.Query(ctx, query("inbox_campaigns"), ids)
	if err != nil {
		return fmt.Errorf("read campaigns: %w", err)
	}
	var id int64
	var settings []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &settings}, func() error {
		s.camps.Add(id, campEntry{utm: parseCampaign(nil, settings).utm, fetched: now})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read campaigns: %w", err)
	}
	return nil
}

// InboxLag is how long the oldest click or open waiting in event_inbox
// has waited, by the database's clock (0 when none waits): what a report
// may lack at most right now. Every process sees the same inbox.
func (s *Service) InboxLag(ctx context.Context) (time.Duration, error) {
	var secs *float64
	err := s.cfg.Pool.QueryRow(ctx, query("inbox_oldest")).Scan(&secs)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("inbox lag: %w", err)
	}
	return time.Duration(max(*secs, 0) * float64(time.Second)), nil
}
