package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/timing"
)

// gate is what the timing settings decide for one claimed delivery: go now
// (the zero gate), wait (held: back to queued without spending an attempt,
// the job snoozes until the first held delivery may go), or skip (over a
// frequency cap whose action is skip).
type gate struct {
	wait   time.Duration
	detail string
	skip   bool
}

// Held details: why a delivery went back to the queue.
const (
	heldSendTime = "held for its local send time"
	heldQuiet    = "held by quiet hours"
	heldCap      = "held by the frequency cap"
)

// capFor is the frequency cap that applies to c: its own, else the
// operator's default (PEYKAR_FREQUENCY_CAP), else none.
func (w *SendWorker) capFor(c *campaigns.Campaign) *campaigns.FrequencyCap {
	if c.Settings.FrequencyCap != nil {
		return c.Settings.FrequencyCap
	}
	return w.FrequencyCap
}

// timingGates decides a send group's timing in one pass, with at most one
// statement (the frequency cap's look back over the whole group):
//
//   - send_time: a first step of the launch's audience goes at the first
//     local_time in the recipient's zone at or after the launch;
//   - quiet_hours: a delivery due inside the window waits for its end;
//   - the frequency cap: with scope "all", every delivery counts the
//     contact's sends of every campaign (transactional ones exempt) in the
//     window; with scope "campaign", follow-ups count this campaign's. Over
//     the cap a delivery waits until the window allows it (then quiet hours
//     apply again), or is skipped when the action is skip.
//
// Deliveries with no gate are absent from the map.
func (w *SendWorker) timingGates(ctx context.Context, c *campaigns.Campaign, group []deliveries.Delivery, byID map[int64]contacts.Contact) (map[int64]gate, error) {
	st, qh, fc := c.Settings.SendTime, c.Settings.QuietHours, w.capFor(c)
	if st == nil && qh == nil && fc == nil {
		return nil, nil
	}
	now := w.Now()
	first := ""
	if len(c.Steps) > 0 {
		first = c.Steps[0].Key
	}
	recent, err := w.capLookBack(ctx, c, fc, group, first, now)
	if err != nil {
		return nil, err
	}
	sendAt, quiet := timingRules(st, qh)
	gates := map[int64]gate{}
	for _, d := range group {
		loc := timing.Resolve(byID[d.ContactID].Attributes, c.Settings.DefaultTimezone()).Loc
		due, detail := now, ""
		if sendAt != nil && d.Round == 0 && d.Step == first && c.LaunchedAt != nil {
			if at := timing.NextAt(*c.LaunchedAt, loc, *sendAt); at.After(due) {
				due, detail = at, heldSendTime
			}
		}
		if quiet != nil {
			if at := quiet.Release(due, loc); at.After(due) {
				due, detail = at, heldQuiet
			}
		}
		if due.After(now) {
			gates[d.ID] = gate{wait: due.Sub(now), detail: detail}
			continue
		}
		if fc == nil || (!fc.ScopeAll() && d.Step == first) {
			continue
		}
		window := fc.Window()
		sends := recent[d.ContactID]
		if len(sends) < fc.Max {
			// Goes now: it counts against later deliveries of the group.
			recent[d.ContactID] = append([]time.Time{now}, sends...)
			continue
		}
		if fc.Skips() {
			gates[d.ID] = gate{skip: true, detail: campaigns.CapSkipReason}
			continue
		}
		// The Max-th most recent send must leave the window.
		free := sends[fc.Max-1].Add(window).Add(time.Second)
		if quiet != nil {
			free = quiet.Release(free, loc)
		}
		gates[d.ID] = gate{wait: free.Sub(now), detail: heldCap}
	}
	return gates, nil
}

// timingRules parses the campaign's send time and quiet hours (validated
// on save; a stored value that does not parse is ignored rather than
// stopping the send).
func timingRules(st *campaigns.SendTime, qh *campaigns.QuietHours) (*timing.Clock, *timing.Quiet) {
	var sendAt *timing.Clock
	var quiet *timing.Quiet
	if st != nil {
		if c, err := timing.ParseClock(st.LocalTime); err == nil {
			sendAt = &c
		}
	}
	if qh != nil {
		if q, err := timing.ParseQuiet(qh.From, qh.To); err == nil {
			quiet = &q
		}
	}
	return sendAt, quiet
}

// capLookBack reads the sends within the cap's window of the group's
// contacts that the cap counts, in one statement: every campaign's for
// scope all, this campaign's (for its follow-ups) otherwise.
func (w *SendWorker) capLookBack(ctx context.Context, c *campaigns.Campaign, fc *campaigns.FrequencyCap, group []deliveries.Delivery, first string, now time.Time) (map[int64][]time.Time, error) {
	if fc == nil {
		return nil, nil
	}
	ids := make([]int64, 0, len(group))
	for _, d := range group {
		if fc.ScopeAll() || d.Step != first {
			ids = append(ids, d.ContactID)
		}
	}
	scope := c.ID
	if fc.ScopeAll() {
		scope = 0
	}
	recent, err := deliveries.RecentSends(ctx, w.Pool, ids, scope, now.Add(-fc.Window()))
	if err != nil {
		return nil, fmt.Errorf("frequency cap: %w", err)
	}
	return recent, nil
}

// cappedCount is how many of the campaign's deliveries the frequency cap
// skipped; skipped is how many were skipped at all (0 skips the query).
func cappedCount(ctx context.Context, db DBTX, campaignID, skipped int64) (int64, error) {
	if skipped == 0 {
		return 0, nil
	}
	n, err := deliveries.CountSkippedFor(ctx, db, campaignID, campaigns.CapSkipReason)
	if err != nil {
		return 0, fmt.Errorf("campaign progress: %w", err)
	}
	return n, nil
}
