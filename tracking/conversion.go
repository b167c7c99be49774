package tracking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/contacts"
)

// Conversions attributes purchases (and other valued transactions) to
// campaigns. The contacts package calls it inside the transaction that
// stores the transaction row.
type Conversions struct {
	applier *applier
	now     func() time.Time
}

// NewConversions returns a Conversions that enqueues rule jobs on client
// (nil: none).
func NewConversions(client *river.Client[pgx.Tx]) *Conversions {
	return &Conversions{applier: &applier{links: NewLinkCache(16, time.Minute, time.Now), river: client, now: time.Now}, now: time.Now}
}

// Conversions returns the service's conversion recorder.
func (s *Service) Conversions() *Conversions {
	return &Conversions{applier: &applier{links: s.links, river: s.cfg.River, now: s.now}, now: s.now}
}

// RecordConversion attributes transaction transactionID of contactID, worth
// value, to a delivery: the contact's latest delivery of campaignID when it
// is given, otherwise the delivery the contact most recently clicked (a
// human click) within that campaign's conversion window
// (settings.conversion_window, default 7 days) before at. It sets the
// transaction's delivery_id and campaign_id, records a conversion event with
// the value and counts it in the rollups (conversions, revenue, and revenue
// in the transaction's currency), all in tx.
// A transaction that no delivery explains is left unattributed (nil error).
func (cv *Conversions) RecordConversion(ctx context.Context, tx pgx.Tx, contactID int64, transactionID int64, campaignID *int64, value float64, at time.Time) error {
	if at.IsZero() {
		at = cv.now()
	}
	deliveryID, err := attribute(ctx, tx, contactID, campaignID, at)
	if err != nil {
		return err
	}
	if deliveryID == 0 {
		if campaignID != nil {
			return contacts.AttributeToCampaign(ctx, tx, transactionID, *campaignID)
		}
		return nil
	}
	currency, err := contacts.TransactionCurrency(ctx, tx, transactionID)
	if err != nil {
		return err
	}
	ev := &Event{Type: TypeConversion, DeliveryID: deliveryID, LinkIdx: -1, Value: value, Currency: currency, At: at}
	outs, errsOut, err := cv.applier.apply(ctx, tx, []*Event{ev}, nil)
	if err != nil {
		return fmt.Errorf("record conversion: %w", err)
	}
	if errsOut[0] != nil {
		return fmt.Errorf("record conversion: %w", errsOut[0])
	}
	return contacts.AttributeToDelivery(ctx, tx, transactionID, deliveryID, outs[0].CampaignID)
}

// attribute finds the delivery a conversion belongs to, or 0.
func attribute(ctx context.Context, tx pgx.Tx, contactID int64, campaignID *int64, at time.Time) (int64, error) {
	var id int64
	if campaignID != nil {
		err := tx.QueryRow(ctx, query("conversion_delivery_in_campaign"), *campaignID, contactID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("find delivery: %w", err)
		}
		return id, nil
	}
	rows, err := tx.Query(ctx, query("clicked_deliveries"), contactID, at)
	if err != nil {
		return 0, fmt.Errorf("find clicked delivery: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var settings []byte
		var last time.Time
		if err := rows.Scan(&id, &settings, &last); err != nil {
			return 0, fmt.Errorf("find clicked delivery: %w", err)
		}
		if at.Sub(last) <= parseCampaign(nil, settings).conversionWindow {
			return id, nil
		}
	}
	return 0, rows.Err()
}
