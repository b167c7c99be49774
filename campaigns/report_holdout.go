package campaigns

import (
	"context"
	"time"

	"github.com/peykar/peykar/campaigns/holdout"
	"github.com/peykar/peykar/campaigns/settings"
)

// readHoldout fills r.Holdout for a launched campaign with a holdout. The
// window starts at launch and ends a conversion window
// (settings.conversion_window) after it — for a triggered campaign, after
// its ends_at, or after now while it takes entries — and is the same for
// both groups: holdout people have no deliveries, so conversions are
// counted by time, not by attribution (docs/metrics.md).
func (s *Service) readHoldout(ctx context.Context, c Campaign, r *Report) error {
	if c.Settings.Holdout <= 0 || c.LaunchedAt == nil {
		return nil
	}
	window, err := settings.ParseConversionWindow(c.Settings.ConversionWindow)
	if err != nil {
		window = settings.DefaultConversionWindow
	}
	now := s.now()
	end := c.LaunchedAt.Add(window)
	if c.Triggered() {
		last := now
		if c.EndsAt != nil && c.EndsAt.Before(now) {
			last = *c.EndsAt
		}
		end = maxTime(last, *c.LaunchedAt).Add(window)
	}
	h, err := holdout.Measure(ctx, s.Pool, holdout.Window{CampaignID: c.ID, Share: c.Settings.Holdout,
		Currency: r.currency, Start: *c.LaunchedAt, End: end, Now: now})
	if err != nil {
		return err
	}
	r.Holdout = &h
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
