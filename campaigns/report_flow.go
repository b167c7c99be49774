package campaigns

import (
	"context"

	"github.com/peykar/peykar/tracking"
)

// readFlow fills r's step deliveries (tracking's totals) and, once the
// campaign is launched, the follow-ups each rule has scheduled and not yet
// run (the engine's jobs, through the Runtime).
func (s *Service) readFlow(ctx context.Context, c Campaign, r *Report) error {
	byStep, err := tracking.DeliveriesByStep(ctx, s.Pool, c.ID)
	if err != nil {
		return err
	}
	r.StepDeliveries = make(map[string]StepDeliveries, len(c.Steps))
	for _, st := range c.Steps {
		d := byStep[st.Key]
		r.StepDeliveries[st.Key] = StepDeliveries{Created: d.Created, Waiting: d.Waiting}
	}
	if c.Status == StatusDraft || len(c.Rules) == 0 {
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
