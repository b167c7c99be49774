package tracking

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
)

// unsubScope is what an unsubscribe link acts on.
type unsubScope struct {
	contactID int64
	status    string
	topicIDs  []int64
}

// scope reads what delivery id's unsubscribe acts on; ErrNotFound for an
// unknown delivery.
func (s *Service) scope(ctx context.Context, deliveryID int64) (unsubScope, error) {
	var u unsubScope
	err := s.cfg.Pool.QueryRow(ctx, query("unsubscribe_scope"), deliveryID).Scan(&u.contactID, &u.status, &u.topicIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("unsubscribe scope of delivery %d: %w", deliveryID, err)
	}
	return u, nil
}

// unsubscribeTopics unsubscribes the contact from the campaign's topics,
// each change a consent record from the link (RFC 8058 one-click included)
// with where the request came from.
func (s *Service) unsubscribeTopics(ctx context.Context, u unsubScope, src topics.Source) error {
	return pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		for _, t := range u.topicIDs {
			if _, err := topics.Set(ctx, tx, u.contactID, t, topics.Unsubscribed, src); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordEmailUnsubscribe records an unsubscribe from the whole email
// channel as consent, once: only when the contact was still active.
func (s *Service) recordEmailUnsubscribe(ctx context.Context, u unsubScope, src topics.Source) error {
	if u.status != "active" {
		return nil
	}
	return topics.Record(ctx, s.cfg.Pool, u.contactID, topics.Consent{Channel: topics.ChannelEmail, Change: topics.ChangeUnsubscribed, Source: src})
}
