package messages

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// request is one POST /messages waiting for its group's transaction.
// Concurrent requests are stored together (Service.group): one
// transaction, one statement per step for all of them, one fsync, and one
// River job per MaxBatchJob messages, where one request alone took a
// transaction of its own, about a dozen statements and a job.
type request struct {
	key  string
	in   Input
	hash []byte

	// What the group decided: an answer, an error of the request's own,
	// or alone (store it by itself, after the group: see storeGroup).
	ans   Answer
	err   error
	alone bool

	dup       *request // the group's earlier request with the same key
	tpl       templates.Template
	contactID int64
	created   bool
}

// groupWriters is how many groups are stored at once: a group's
// transaction is about ten round trips to PostgreSQL, one after the other,
// and on a loaded machine each waits to be scheduled; overlapping a few
// groups keeps the API answering while one waits. Groups with one key
// are still decided by its unique index.
const groupWriters = 4

// maxGroupTries is how often a group is stored again when a key it
// claimed was taken meanwhile by a transaction it did not see (another
// server process): each try sees the keys committed before it.
const maxGroupTries = 3

// writeGroup stores a group of requests in one transaction; an error is
// the whole group's (each request is then stored on its own).
func (s *Service) writeGroup(ctx context.Context, reqs []*request) error {
	for try := 1; ; try++ {
		var learnt []func()
		err := pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
			var err error
			learnt, err = s.storeGroup(ctx, tx, reqs)
			return err
		})
		if errors.Is(err, errKeyHeld) && try < maxGroupTries {
			continue
		}
		if err != nil {
			return fmt.Errorf("store %d messages: %w", len(reqs), err)
		}
		for _, f := range learnt {
			f() // committed: the campaigns exist
		}
		return nil
	}
}

// storeGroup decides each request of the group in tx, in the order of the
// one-request path: template, key, contact; then stores the messages to
// send, their deliveries and their jobs. It returns what to remember once
// tx commits.
func (s *Service) storeGroup(ctx context.Context, tx pgx.Tx, reqs []*request) ([]func(), error) {
	for _, r := range reqs {
		r.ans, r.err, r.alone, r.dup = Answer{}, nil, false, nil
	}
	if err := s.groupTemplates(ctx, tx, reqs); err != nil {
		return nil, err
	}
	live, err := s.groupKeys(ctx, tx, reqs)
	if err != nil {
		return nil, err
	}
	if live, err = groupContacts(ctx, tx, live); err != nil {
		return nil, err
	}
	learnt, err := s.storeLive(ctx, tx, live)
	if err != nil {
		return nil, err
	}
	for _, r := range reqs {
		if p := r.dup; p != nil {
			if p.err != nil || p.alone {
				// The first request with the key got no message: this one
				// may, on its own (after the group commits).
				r.alone = true
				continue
			}
			r.ans, r.err = answerHeld(p.ans.ID, p.hash, r.hash)
		}
	}
	return learnt, nil
}

// groupTemplates reads each template of the group once and checks every
// request against its template.
func (s *Service) groupTemplates(ctx context.Context, tx pgx.Tx, reqs []*request) error {
	byID := map[int64]*templates.Template{}
	for _, r := range reqs {
		id := r.in.TemplateID
		t, seen := byID[id]
		if !seen {
			got, err := templates.Get(ctx, tx, id)
			switch {
			case errs.Is(err, errs.NotFound):
			case err != nil:
				return err
			default:
				t = &got
			}
			byID[id] = t
		}
		if t == nil {
			r.err = errs.Field("template_id", "template %d does not exist", id)
			continue
		}
		r.tpl = *t
		r.err = s.checkTemplate(*t, r.in)
	}
	return nil
}

// groupKeys answers the requests whose key a message holds (releasing
// keys past KeyTTL), links later requests with a key to the group's first
// request with it, and returns the requests to store.
func (s *Service) groupKeys(ctx context.Context, tx pgx.Tx, reqs []*request) ([]*request, error) {
	first := map[string]*request{}
	var keys []string
	var live []*request
	for _, r := range reqs {
		if r.err != nil {
			continue
		}
		if r.key != "" {
			if p, ok := first[r.key]; ok {
				r.dup = p
				continue
			}
			first[r.key] = r
			keys = append(keys, r.key)
		}
		live = append(live, r)
	}
	if len(keys) == 0 {
		return live, nil
	}
	oldest := s.cfg.Now().Add(-KeyTTL)
	held, err := heldKeys(ctx, tx, keys, oldest)
	if err != nil {
		return nil, err
	}
	var expired []string
	for k, h := range held {
		if h.expired {
			expired = append(expired, k)
		}
	}
	if len(expired) > 0 {
		if err := releaseKeys(ctx, tx, expired, oldest); err != nil {
			return nil, err
		}
	}
	kept := live[:0]
	for _, r := range live {
		if h, ok := held[r.key]; ok && r.key != "" && !h.expired {
			r.ans, r.err = answerHeld(h.id, h.hash, r.hash)
			continue
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// groupContacts finds each request's contact (one read for every
// contact_id; the contact of each "to", created when missing) and returns
// the requests whose contact is known.
func groupContacts(ctx context.Context, tx pgx.Tx, live []*request) ([]*request, error) {
	var ids []int64
	for _, r := range live {
		if r.in.ContactID != 0 {
			ids = append(ids, r.in.ContactID)
		}
	}
	found := map[int64]bool{}
	if len(ids) > 0 {
		cs, err := contacts.GetMany(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			found[c.ID] = true
		}
	}
	kept := live[:0]
	for _, r := range live {
		if r.in.ContactID != 0 {
			if !found[r.in.ContactID] {
				r.err = errs.Field("contact_id", "contact %d does not exist", r.in.ContactID)
				continue
			}
			r.contactID = r.in.ContactID
		} else {
			id, created, err := contacts.EnsureByEmailTagged(ctx, tx, r.in.To, ContactTag)
			if err != nil {
				return nil, err
			}
			r.contactID, r.created = id, created
		}
		kept = append(kept, r)
	}
	return kept, nil
}

// storeLive writes the group's messages, their deliveries and their jobs
// and sets their answers. A key taken meanwhile fails it with errKeyHeld
// (the group is tried again).
func (s *Service) storeLive(ctx context.Context, tx pgx.Tx, live []*request) ([]func(), error) {
	if len(live) == 0 {
		return nil, nil
	}
	var learnt []func()
	campaignOf := map[int64]int64{}
	for _, r := range live {
		if _, ok := campaignOf[r.tpl.ID]; ok {
			continue
		}
		id, known, err := s.campaign(ctx, tx, r.tpl)
		if err != nil {
			return nil, err
		}
		campaignOf[r.tpl.ID] = id
		if !known {
			tplID := r.tpl.ID
			learnt = append(learnt, func() { s.remember(tplID, id) })
		}
	}
	ids, err := nextIDs(ctx, tx, len(live))
	if err != nil {
		return nil, err
	}
	rounds := make([]deliveries.NewRound, len(live))
	for i, r := range live {
		rounds[i] = deliveries.NewRound{CampaignID: campaignOf[r.tpl.ID], ContactID: r.contactID, Round: ids[i]}
	}
	dids, err := deliveries.CreateRounds(ctx, tx, campaigns.TransactionalStep, rounds)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	rows := make([]newRow, len(live))
	jobs := make([]SendArgs, len(live))
	for i, r := range live {
		did, ok := dids[ids[i]]
		if !ok {
			return nil, fmt.Errorf("message %d: its delivery exists already", ids[i])
		}
		cid := campaignOf[r.tpl.ID]
		rows[i] = newRow{id: ids[i], deliveryID: did, hash: r.hash, templateID: r.tpl.ID, campaignID: cid,
			contactID: r.contactID, contactCreated: r.created, data: r.in.Data, transactional: r.in.Transactional, at: now}
		if r.key != "" {
			rows[i].key = &r.key
		}
		jobs[i] = SendArgs{MessageID: ids[i], DeliveryID: did, CampaignID: cid, Transactional: r.in.Transactional, Data: r.in.Data}
	}
	n, err := insertMany(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	if n < len(rows) {
		return nil, errKeyHeld
	}
	if err := s.enqueue(ctx, tx, jobs); err != nil {
		return nil, err
	}
	for i, r := range live {
		r.ans = Answer{ID: ids[i], Status: StatusQueued}
	}
	return learnt, nil
}

// enqueue inserts the jobs of messages, MaxBatchJob to a job, with one
// COPY.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, msgs []SendArgs) error {
	var params []river.InsertManyParams
	for start := 0; start < len(msgs); start += MaxBatchJob {
		end := min(start+MaxBatchJob, len(msgs))
		params = append(params, river.InsertManyParams{Args: BatchArgs{Messages: msgs[start:end]}})
	}
	if _, err := s.cfg.River.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue %d messages: %w", len(msgs), err)
	}
	return nil
}
