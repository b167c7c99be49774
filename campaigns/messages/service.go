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
	"github.com/peykar/peykar/internal/groupcommit"
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
	campaigns map[int64]int64 // template → its transactional campaign
	group     groupcommit.Group[*request]
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
	s := &Service{cfg: cfg, templates: map[int64]cachedTemplate{}, campaigns: map[int64]int64{}}
	s.group.Write, s.group.Writers = s.writeGroup, groupWriters
	return s
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
// wrong. Concurrent calls are stored together (a group commit, group.go);
// the answer comes once the message and its job are committed.
func (s *Service) Send(ctx context.Context, key string, in Input) (Answer, error) {
	if err := checkKey(key); err != nil {
		return Answer{}, err
	}
	if err := in.normalize(); err != nil {
		return Answer{}, err
	}
	r := &request{key: key, in: in, hash: in.hash()}
	if err := s.group.Do(ctx, r); err != nil || r.alone {
		// The group failed as a whole (or this request needs the
		// one-at-a-time path): store it on its own, which fails only
		// for reasons of its own.
		return s.sendAlone(ctx, key, in)
	}
	return r.ans, r.err
}

// sendAlone is Send for one request in a transaction of its own.
func (s *Service) sendAlone(ctx context.Context, key string, in Input) (Answer, error) {
	tpl, err := s.template(ctx, in)
	if err != nil {
		return Answer{}, err
	}
	hash := in.hash()
	ans, err := s.storeTx(ctx, key, hash, in, tpl)
	if errors.Is(err, errKeyHeld) {
		// A key held longer than KeyTTL is released and the request
		// stored afresh; otherwise the holder's answer is the answer.
		released, rerr := releaseKey(ctx, s.cfg.Pool, key, s.cfg.Now().Add(-KeyTTL))
		if rerr != nil {
			return Answer{}, rerr
		}
		if released {
			ans, err = s.storeTx(ctx, key, hash, in, tpl)
		}
		if !released || errors.Is(err, errKeyHeld) {
			return s.replay(ctx, key, hash)
		}
	}
	return ans, err
}

// storeTx is store in a transaction of its own; the template's campaign
// is remembered once it commits.
func (s *Service) storeTx(ctx context.Context, key string, hash []byte, in Input, tpl templates.Template) (Answer, error) {
	var ans Answer
	var learnt func()
	err := pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		var err error
		ans, learnt, err = s.store(ctx, tx, key, hash, in, tpl)
		return err
	})
	if err == nil && learnt != nil {
		learnt() // committed: the campaign exists
	}
	return ans, err
}

// errKeyHeld: another message holds the key; the transaction rolls back
// and the request is answered from that message.
var errKeyHeld = errors.New("idempotency key held")

// store writes the message, its delivery and its send job in tx. The
// key is claimed by the message insert, after the delivery: a held key
// rolls the transaction back (errKeyHeld) and the request is answered from
// the message that holds it.
func (s *Service) store(ctx context.Context, tx pgx.Tx, key string, hash []byte, in Input, tpl templates.Template) (_ Answer, learnt func(), err error) {
	now := s.cfg.Now()
	contactID, created, err := s.contact(ctx, tx, in)
	if err != nil {
		return Answer{}, nil, err
	}
	campaignID, known, err := s.campaign(ctx, tx, tpl)
	if err != nil {
		return Answer{}, nil, err
	}
	if !known {
		learnt = func() { s.remember(tpl.ID, campaignID) }
	}
	id, err := nextID(ctx, tx)
	if err != nil {
		return Answer{}, nil, err
	}
	deliveryID, _, err := deliveries.CreateOne(ctx, tx, campaignID, campaigns.TransactionalStep, contactID, id)
	if err != nil {
		return Answer{}, nil, err
	}
	row := newRow{id: id, deliveryID: deliveryID, hash: hash, templateID: tpl.ID, campaignID: campaignID,
		contactID: contactID, contactCreated: created, data: in.Data, transactional: in.Transactional, at: now}
	if key != "" {
		row.key = &key
	}
	got, err := insert(ctx, tx, row)
	if err != nil {
		return Answer{}, nil, err
	}
	if got == 0 {
		return Answer{}, nil, errKeyHeld
	}
	args := SendArgs{MessageID: id, DeliveryID: deliveryID, CampaignID: campaignID, Transactional: in.Transactional, Data: in.Data}
	if _, err := s.cfg.River.InsertTx(ctx, tx, args, nil); err != nil {
		return Answer{}, nil, fmt.Errorf("enqueue message %d: %w", id, err)
	}
	return Answer{ID: id, Status: StatusQueued}, learnt, nil
}

// campaign is the template's transactional campaign: known ones from
// memory (it never changes once created), others found or created in tx.
func (s *Service) campaign(ctx context.Context, tx pgx.Tx, tpl templates.Template) (id int64, known bool, err error) {
	s.mu.Lock()
	id, known = s.campaigns[tpl.ID]
	s.mu.Unlock()
	if known {
		return id, true, nil
	}
	id, err = campaigns.EnsureTransactional(ctx, tx, tpl, s.cfg.From)
	return id, false, err
}

// remember keeps a template's campaign once the transaction that found or
// created it has committed.
func (s *Service) remember(templateID, campaignID int64) {
	s.mu.Lock()
	if len(s.campaigns) >= 1024 {
		clear(s.campaigns)
	}
	s.campaigns[templateID] = campaignID
	s.mu.Unlock()
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
	return answerHeld(id, held, hash)
}

// answerHeld answers a request (hash) whose key message id holds (held):
// its first answer when the requests are the same, a refusal when they
// differ.
func answerHeld(id int64, held, hash []byte) (Answer, error) {
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
	return t, s.checkTemplate(t, in)
}

// checkTemplate checks template t for a message in: marked transactional
// when the message is, it compiles, and the data holds every key it
// reads.
func (s *Service) checkTemplate(t templates.Template, in Input) error {
	if in.Transactional && !t.Transactional {
		return errs.Field("transactional", "template %d (%q) is not marked transactional: an admin marks it on its template page "+
			"(Transactional) or with PUT /api/v1/templates/%d \"transactional\": true; or send it without \"transactional\", "+
			"which respects unsubscriptions", t.ID, t.Name, t.ID)
	}
	c, err := s.compiled(t)
	if err != nil {
		return errs.Field("template_id", "template %d (%q) does not compile: %v", t.ID, t.Name, err)
	}
	var p []*errs.Error
	for _, k := range c.DataKeys() {
		if _, ok := in.Data[k]; !ok {
			p = append(p, errs.Field("data."+k, "is required: template %d (%q) reads {{ .Data.%s }}", t.ID, t.Name, k))
		}
	}
	return errs.Collect(p)
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
