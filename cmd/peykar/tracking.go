package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/tracking"
)

// startTracking starts the tracking service's event writer (after River, so
// rule jobs can be enqueued) and closes it before River and the pool: HTTP
// stops first, then queued events are written.
func (m *Main) startTracking(ctx context.Context) error {
	if m.signer == nil {
		keys := tracking.Keys{Current: []byte(m.secret)}
		if m.Config.PreviousSecret != "" {
			keys.Previous = []byte(m.Config.PreviousSecret)
		}
		m.signer = tracking.NewSigner(keys)
	}
	svc, err := tracking.NewService(tracking.Config{Pool: m.pool, Signer: m.signer, River: m.river, Logger: m.Logger})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return fmt.Errorf("tracking: %w", err)
	}
	m.tracking = svc
	m.closers = append(m.closers, svc.Close)
	m.registerTrackingMetrics(ctx)
	if m.Config.BounceAddr != "" {
		domain := m.Config.BounceDomain
		if domain == "" {
			domain = "localhost"
		}
		bs, err := svc.ListenBounces(ctx, m.Config.BounceAddr, domain)
		if err != nil {
			return err
		}
		m.Logger.InfoContext(ctx, "taking bounces and complaints by SMTP", slog.String("addr", bs.Addr().String()))
		m.closers = append(m.closers, bs.Close) // closes before the writer it feeds
	}
	return nil
}

// conversions adapts tracking's attribution to the contacts package.
func (m *Main) conversions() contacts.ConversionRecorder {
	cv := m.tracking.Conversions()
	return contacts.ConversionFunc(func(ctx context.Context, tx pgx.Tx, t contacts.Transaction) error {
		return cv.RecordConversion(ctx, tx, t.ContactID, t.ID, t.CampaignID, t.Value, t.OccurredAt)
	})
}
