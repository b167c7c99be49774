package engine

import (
	"context"
	"errors"
	"log/slog"

	"github.com/peykar/peykar/tracking"
)

// skipEvent reports whether a rules job's tracked event must fire nothing:
// it is, by now, machine traffic, or it is gone. The writer enqueues jobs
// for events it recorded as human, but a later burst or honeypot hit may
// reclassify a click. The job runs once that verdict is final
// (tracking.VerdictAt), so what is stored now is the answer; machine
// traffic fires no rule and records no firing, so a person's own click on
// the same delivery later still can. Jobs without an event (sent, a
// bounce seen while sending) are never machine traffic.
func (r *Rules) skipEvent(ctx context.Context, a tracking.RuleEventArgs) (bool, error) {
	if a.EventID == 0 {
		return false, nil
	}
	v, err := tracking.StoredVerdict(ctx, r.Pool, a.EventID)
	if errors.Is(err, tracking.ErrNotFound) {
		r.Logger.InfoContext(ctx, "rules skipped: event deleted", slog.Int64("campaign_id", a.CampaignID),
			slog.Int64("event_id", a.EventID))
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if v.Machine {
		r.Logger.InfoContext(ctx, "rules skipped: machine traffic", slog.Int64("campaign_id", a.CampaignID),
			slog.Int64("delivery_id", a.DeliveryID), slog.Int64("event_id", a.EventID), slog.String("type", a.Type),
			slog.String("reason", v.Reason))
	}
	return v.Machine, nil
}
