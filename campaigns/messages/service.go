package messages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// ContactTag marks contacts the API created from a message's "to": they
// gave no consent to marketing.
const ContactTag = "transactional-api"

// Config is what the service needs.
type Config struct {
	Pool *pgxpool.Pool
	// River enqueues each message's send job in the API's transaction.
	River *river.Client[pgx.Tx]
	// From is the sender of the transactional campaigns created on first
	// use (the operator's PEYKAR_FROM).
	From campaigns.Address
	// Now is the clock of created_at and of key expiry (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service sends transactional messages.
type Service struct {
	cfg       Config
	mu        sync.Mutex
	templates map[int64]cachedTemplate
}

type cachedTemplate struct {
	updated  time.Time
	compiled *templates.Compiled
}

// New returns a service for cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, templates: map[int64]cachedTemplate{}}
}

// Answer is what POST /messages answers, the first time and on every
// replay of its Idempotency-Key.
type Answer struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	// Replayed is true when the answer is a replay of an earlier request
	// with the same key (sent as the Idempotent-Replayed header).
	Replayed bool `json:"-"`
}

// Send stores a message and its send job, or answers the first answer of
// key. It fails with errs.Invalid (the request, the template, the key used
// with another request) or errs.NotFound-free field errors naming what is
// wrong.
func (s *Service) Send(ctx context.Context, key string, in Input) (Answer, error) {
	if err := checkKey(key); err != nil {
		return Answer{}, err
	}
	if err := in.normalize(); err != nil {
		return Answer{}, err
	}
	tpl, err := s.template(ctx, in)
	if err != nil {
		return Answer{}, err
	}
	hash := in.hash()
	var ans Answer
	err = pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		ans, err = s.store(ctx, tx, key, hash, in, tpl)
		return err
	})
	if errors.Is(err, errKeyHeld) {
		return s.replay(ctx, key, hash)
	}
	return ans, err
}

// errKeyHeld: another message holds the key; the transaction rolls back
// and the request is answered from that message.
var errKeyHeld = errors.New("idempotency key held")

// store writes the message, its delivery and its send job in tx.
func (s *Service) store(ctx context.Context, tx pgx.Tx, key string, hash []byte, in Input, tpl templates.Template) (Answer, error) {
	now := s.cfg.Now()
	var keyArg *string
	if key != "" {
		keyArg = &key
		if err := releaseKey(ctx, tx, key, now.Add(-KeyTTL)); err != nil {
			return Answer{}, err
		}
	}
	contactID, created, err := s.contact(ctx, tx, in)
	if err != nil {
		return Answer{}, err
	}
	campaignID, err := campaigns.EnsureTransactional(ctx, tx, tpl, s.cfg.From)
	if err != nil {
		return Answer{}, err
	}
	id, err := insert(ctx, tx, newRow{key: keyArg, hash: hash, templateID: tpl.ID, campaignID: campaignID,
		contactID: contactID, contactCreated: created, data: in.Data, transactional: in.Transactional, at: now})
	if err != nil {
		return Answer{}, err
	}
	if id == 0 {
		return Answer{}, errKeyHeld
	}
	deliveryID, _, err := deliveries.CreateRound(ctx, tx, campaignID, campaigns.TransactionalStep, contactID, id)
	if err != nil {
		return Answer{}, err
	}
	if err := setDelivery(ctx, tx, id, deliveryID); err != nil {
		return Answer{}, err
	}
	args := SendArgs{MessageID: id, DeliveryID: deliveryID, CampaignID: campaignID}
	if _, err := s.cfg.River.InsertTx(ctx, tx, args, nil); err != nil {
		return Answer{}, fmt.Errorf("enqueue message %d: %w", id, err)
	}
	return Answer{ID: id, Status: StatusQueued}, nil
}

// replay answers a request whose key another message holds: that
// message's first answer when the requests are the same, a refusal when
// they differ.
func (s *Service) replay(ctx context.Context, key string, hash []byte) (Answer, error) {
	id, held, err := byKey(ctx, s.cfg.Pool, key)
	if errors.Is(err, pgx.ErrNoRows) {
		// Released between the two reads (the sweep): rare; ask again.
		return Answer{}, errs.New(errs.Conflict, "Idempotency-Key %q was just released; send the request again", key)
	}
	if err != nil {
		return Answer{}, err
	}
	if !bytes.Equal(held, hash) {
		e := errs.Field("Idempotency-Key", "was used within %s for message %d with a different request; use a new key for a different message", KeyTTL, id)
		e.Details = map[string]any{"id": id}
		return Answer{}, e
	}
	return Answer{ID: id, Status: StatusQueued, Replayed: true}, nil
}

// contact finds the message's contact: contact_id, or the contact of to,
// created (tagged ContactTag) when there is none.
func (s *Service) contact(ctx context.Context, tx pgx.Tx, in Input) (int64, bool, error) {
	if in.ContactID != 0 {
		if _, err := contacts.Get(ctx, tx, in.ContactID); err != nil {
			if errs.Is(err, errs.NotFound) {
				return 0, false, errs.Field("contact_id", "contact %d does not exist", in.ContactID)
			}
			return 0, false, err
		}
		return in.ContactID, false, nil
	}
	return contacts.EnsureByEmailTagged(ctx, tx, in.To, ContactTag)
}

// template loads and checks the message's template: it exists, compiles,
// is marked transactional when the message is, and the data holds every
// key it reads.
func (s *Service) template(ctx context.Context, in Input) (templates.Template, error) {
	t, err := templates.Get(ctx, s.cfg.Pool, in.TemplateID)
	if errs.Is(err, errs.NotFound) {
		return t, errs.Field("template_id", "template %d does not exist", in.TemplateID)
	}
	if err != nil {
		return t, err
	}
	if in.Transactional && !t.Transactional {
		return t, errs.Field("transactional", "template %d (%q) is not marked transactional: an admin marks it on its template page "+
			"(Transactional) or with PUT /api/v1/templates/%d \"transactional\": true; or send it without \"transactional\", "+
			"which respects unsubscriptions", t.ID, t.Name, t.ID)
	}
	c, err := s.compiled(t)
	if err != nil {
		return t, errs.Field("template_id", "template %d (%q) does not compile: %v", t.ID, t.Name, err)
	}
	var p []*errs.Error
	for _, k := range c.DataKeys() {
		if _, ok := in.Data[k]; !ok {
			p = append(p, errs.Field("data."+k, "is required: template %d (%q) reads {{ .Data.%s }}", t.ID, t.Name, k))
		}
	}
	return t, errs.Collect(p)
}

// compiled compiles t once per version.
func (s *Service) compiled(t templates.Template) (*templates.Compiled, error) {
	s.mu.Lock()
	e, ok := s.templates[t.ID]
	s.mu.Unlock()
	if ok && e.updated.Equal(t.UpdatedAt) {
		return e.compiled, nil
	}
	c, err := templates.Compile(t)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.templates) >= 256 {
		clear(s.templates)
	}
	s.templates[t.ID] = cachedTemplate{updated: t.UpdatedAt, compiled: c}
	s.mu.Unlock()
	return c, nil
}
