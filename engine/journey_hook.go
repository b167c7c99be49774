package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
)

// triggerTTL is how long the list of running triggered campaigns is
// trusted. A launch, a scheduled start and a cancel in this process clear
// it at once; another process's launch is seen within triggerTTL (a
// stale entry job finds the campaign's real status when it runs).
const triggerTTL = time.Second

// triggerCache holds the running triggered campaigns, read on every
// contact event.
type triggerCache struct {
	mu   sync.Mutex
	at   time.Time // when list was read (monotonic); zero: stale
	list []campaigns.Campaign
}

func (c *triggerCache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

func (c *triggerCache) get(ctx context.Context, db DBTX) ([]campaigns.Campaign, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < triggerTTL {
		return c.list, nil
	}
	list, err := campaigns.ListTriggered(ctx, db)
	if err != nil {
		return nil, err
	}
	c.list, c.at = list, time.Now()
	return list, nil
}

// JourneyEvent is a contact event as the journeys' jobs carry it.
type JourneyEvent struct {
	ID         int64          `json:"id"`
	Type       string         `json:"type"`
	Value      float64        `json:"value,omitempty"`
	Currency   string         `json:"currency,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	At         time.Time      `json:"at"`
}

// env is the event as entry.when and an exit's when see it.
func (ev JourneyEvent) env() *campaigns.EntryEventEnv {
	attrs := ev.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return &campaigns.EntryEventEnv{ID: ev.ID, Type: ev.Type, Value: ev.Value, Currency: ev.Currency, Attributes: attrs, At: ev.At}
}

// exitsOn reports whether an event of type typ may exit contacts from c:
// an event exit on it, or a goal exit and a conversion (which may reach
// the goal).
func exitsOn(c *campaigns.Campaign, typ string) bool {
	for _, x := range c.Exit {
		if x.Event == typ || (x.Goal != "" && contacts.IsConversion(typ)) {
			return true
		}
	}
	return false
}

// EventRecorded implements contacts.EventHook: EventsRecorded for one
// event.
func (e *Engine) EventRecorded(ctx context.Context, tx pgx.Tx, t contacts.Transaction) error {
	return e.EventsRecorded(ctx, tx, []contacts.Transaction{t})
}

// EventsRecorded implements contacts.EventsHook: in the events'
// transaction it writes an inbox row for each (event, running campaign
// whose entry listens on the event's type) (the inbox drainer lets them
// in, in batches), and enqueues an exit job for each (event, campaign
// whose exit conditions name it, or that has a goal exit, for a
// conversion), with one statement for the inbox rows and one insert of
// jobs for all the events. Entries and exits judge `when`, the re-entry
// policy and the campaign's status when they run.
func (e *Engine) EventsRecorded(ctx context.Context, tx pgx.Tx, ts []contacts.Transaction) error {
	if len(ts) == 0 {
		return nil
	}
	list, err := e.triggers.get(ctx, tx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ContactID
	}
	if err := e.ContactsChanged(ctx, tx, ids); err != nil {
		return err
	}
	var params []river.InsertManyParams
	var entries inboxRows
	for _, t := range ts {
		ev := JourneyEvent{ID: t.ID, Type: t.Type, Value: t.Value, Currency: t.Currency, Attributes: t.Attributes, At: t.OccurredAt}
		for _, c := range list {
			if c.Entry.Type == campaigns.EntryEvent && c.Entry.Event == t.Type {
				if err := entries.add(c.ID, t.ContactID, ev); err != nil {
					return err
				}
			}
			if exitsOn(&c, t.Type) {
				params = append(params, river.InsertManyParams{Args: ExitArgs{CampaignID: c.ID, ContactID: t.ContactID, Event: ev}})
			}
		}
	}
	if err := e.queueInbox(ctx, tx, entries); err != nil {
		return err
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := e.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue journey jobs: %w", err)
	}
	return nil
}
