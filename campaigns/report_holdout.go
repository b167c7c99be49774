package campaigns

import (
	"context"
	"sync"
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
	if h, ok := s.holdouts.get(c.ID, now); ok {
		r.Holdout = &h
		return nil
	}
	h, err := holdout.Measure(ctx, s.Pool, holdout.Window{CampaignID: c.ID, Share: c.Settings.Holdout,
		Currency: r.currency, Start: *c.LaunchedAt, End: end, Now: now})
	if err != nil {
		return err
	}
	s.holdouts.put(c.ID, h, now)
	r.Holdout = &h
	return nil
}

// holdoutMemoTTL is how long a holdout measure is reused. Unlike the
// rest of the report (rollups: a few hundred rows at any size), the
// measure reads every person of both groups, and the campaign page, its
// progress and the live stream ask for the report every few seconds;
// conversions move the result over hours and days, so a report up to this
// old is no loss.
const holdoutMemoTTL = 30 * time.Second

// holdoutMemo is the last measure of each campaign's holdout, in memory
// only: losing it costs one query.
type holdoutMemo struct {
	mu sync.Mutex
	m  map[int64]memoHoldout
}

type memoHoldout struct {
	at time.Time
	h  holdout.Report
}

func (m *holdoutMemo) get(id int64, now time.Time) (holdout.Report, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[id]
	if !ok || now.Sub(e.at) >= holdoutMemoTTL || now.Before(e.at) {
		return holdout.Report{}, false
	}
	e.h.WindowOpen = now.Before(e.h.WindowEndsAt)
	return e.h, true
}

func (m *holdoutMemo) put(id int64, h holdout.Report, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[int64]memoHoldout{}
	}
	for k, e := range m.m { // bounded: forget what has expired
		if now.Sub(e.at) >= holdoutMemoTTL {
			delete(m.m, k)
		}
	}
	m.m[id] = memoHoldout{at: now, h: h}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
