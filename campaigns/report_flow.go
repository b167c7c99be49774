package campaigns

import (
	"context"

	"github.com/peykar/peykar/tracking"
)

// readFlow fills r's step deliveries (tracking's totals, read from db) and, once the
// campaign is launched, the follow-ups each rule has scheduled and not yet
// run (the engine's jobs, through the Runtime).
func (s *Service) readFlow(ctx context.Context, db DBTX, c Campaign, r *Report) error {
	byStep, err := tracking.DeliveriesByStep(ctx, db, c.ID)
	if err != nil {
		return err
	}
	r.StepDeliveries = make(map[string]StepDeliveries, len(c.Steps))
	for _, st := range c.Steps {
		d := byStep[st.Key]
		r.StepDeliveries[st.Key] = StepDeliveries{Created: d.Created, Waiting: d.Waiting}
	}
	if c.Status == StatusDraft || !schedulesFollowUps(c) {
		return nil
	}
	w, err := s.Runtime.FollowUps(ctx, c.ID)
	if err != nil {
		return err
	}
	for i := range r.Rules {
		rc := &r.Rules[i]
		rc.Waiting = w.Timers[rc.Name]
		if sends := w.Sends[rc.Name]; len(sends) > 0 {
			rc.Delayed = sends
		}
	}
	return nil
}

// schedulesFollowUps says whether c has a rule that waits: a timer rule or
// a delayed send (the rest run at once, and have nothing waiting to count).
func schedulesFollowUps(c Campaign) bool {
	for _, r := range c.Rules {
		if r.On == "no_open" || r.On == "no_click" || r.On == "no_conversion" {
			return true
		}
		for _, a := range r.Actions {
			if a.Type == "send" && a.Delay != "" {
				return true
			}
		}
	}
	return false
}
