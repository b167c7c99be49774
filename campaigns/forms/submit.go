package forms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// maxAttrLen bounds an attribute's value typed into a form.
const maxAttrLen = 200

// Submission is one filled-in form as posted.
type Submission struct {
	Email string
	Name  string
	// Attrs are the attribute fields by key (without "attr.").
	Attrs map[string]string
	// Topics are the topic ids ticked (ignored when the form offers one).
	Topics []int64
	// IP and UserAgent are where the person acted (consent records).
	IP, UserAgent string
}

// Result is what a submit did; the answer to the person is the same
// whatever it holds, so nobody learns whether an address was known.
type Result struct {
	SignupID  int64
	ContactID int64
	Created   bool
	// Mailed: a confirmation mail was queued.
	Mailed bool
}

// chosenTopics are the topics a submit subscribes to: the form's one topic,
// or the ticked ones among the form's.
func chosenTopics(f Form, ticked []int64) ([]int64, error) {
	if len(f.TopicIDs) <= 1 {
		return f.TopicIDs, nil
	}
	var out []int64
	for _, id := range f.TopicIDs {
		if slices.Contains(ticked, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, errs.Field("topic", "choose at least one")
	}
	return out, nil
}

// input checks the typed values and returns the contact input.
func (sub Submission) input(f Form) (contacts.ContactInput, error) {
	in := contacts.ContactInput{Email: strings.TrimSpace(sub.Email), Attributes: map[string]any{},
		Consent: &contacts.Consent{Source: "form", IP: sub.IP}}
	if in.Email == "" {
		return in, errs.Field("email", "is required")
	}
	if _, err := contacts.NormalizeEmail(in.Email); err != nil {
		return in, errs.Field("email", "is not a valid address")
	}
	if f.HasName() {
		in.Name = strings.TrimSpace(sub.Name)
	}
	for _, k := range f.AttrFields() {
		v := strings.TrimSpace(sub.Attrs[k])
		if utf8.RuneCountInString(v) > maxAttrLen {
			return in, errs.Field(attrPrefix+k, "must be at most %d characters", maxAttrLen)
		}
		if v != "" {
			in.Attributes[k] = v
		}
	}
	return in, nil
}

// Submit takes an accepted submit of form f (spam checks already passed):
// it finds or creates the contact, marks the form's topics pending (double
// opt-in) or subscribed with consent records, stores the signup, counts
// it, and queues a confirmation mail, all in one transaction. A topic the
// contact is already subscribed to stays subscribed; an existing contact's
// profile and status are not changed (a pending one becomes active when
// the form has no double opt-in). Bad input gives errs.Invalid on its
// field.
func (s *Service) Submit(ctx context.Context, f Form, sub Submission) (Result, error) {
	in, err := sub.input(f)
	if err != nil {
		return Result{}, err
	}
	chosen, err := chosenTopics(f, sub.Topics)
	if err != nil {
		return Result{}, err
	}
	now := s.cfg.Now()
	src := topics.Source{Kind: topics.SourceForm, IP: sub.IP, UserAgent: sub.UserAgent, Detail: map[string]any{"form_id": f.ID}}
	var res Result
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := contacts.EnsureForSignup(ctx, tx, in, f.DoubleOptIn)
		if err != nil {
			return err
		}
		res.ContactID, res.Created = c.ID, c.Created
		if err := markTopics(ctx, tx, c.ID, chosen, f.DoubleOptIn, src); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, queries.Get("lock_address"), c.ID); err != nil {
			return fmt.Errorf("lock signup address: %w", err)
		}
		if f.DoubleOptIn && (c.Status == contacts.StatusActive || c.Status == contacts.StatusPending) {
			var sent int
			if err := tx.QueryRow(ctx, queries.Get("mails_since"), c.ID, now.Add(-MailWindow)).Scan(&sent); err != nil {
				return fmt.Errorf("count confirmation mails: %w", err)
			}
			res.Mailed = sent < MaxMailsPerAddress
		}
		if err := tx.QueryRow(ctx, queries.Get("create_signup"), f.ID, c.ID, chosen, now, now.Add(ConfirmTTL), res.Mailed).Scan(&res.SignupID); err != nil {
			return fmt.Errorf("create signup: %w", err)
		}
		if err := countEvent(ctx, tx, f.ID, EventSubmission, &res.SignupID, now); err != nil {
			return err
		}
		if !f.DoubleOptIn {
			return s.confirmTx(ctx, tx, res.SignupID, now, nil)
		}
		if res.Mailed {
			if _, err := s.cfg.River.InsertTx(ctx, tx, ConfirmArgs{SignupID: res.SignupID}, nil); err != nil {
				return fmt.Errorf("queue confirmation mail: %w", err)
			}
		}
		return nil
	})
	return res, err
}

// markTopics sets each topic pending (double opt-in) or subscribed,
// leaving subscribed ones alone; with no topics it records the signup on
// the email channel.
func markTopics(ctx context.Context, tx pgx.Tx, contactID int64, ids []int64, doi bool, src topics.Source) error {
	status, change := topics.Subscribed, topics.ChangeSubscribed
	if doi {
		status, change = topics.Pending, topics.ChangePending
	}
	if len(ids) == 0 {
		return topics.Record(ctx, tx, contactID, topics.Consent{Channel: topics.ChannelEmail, Change: change, Source: src})
	}
	subs, err := topics.ForContact(ctx, tx, contactID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if slices.ContainsFunc(subs, func(s topics.Subscription) bool { return s.TopicID == id && s.Status == topics.Subscribed }) {
			continue
		}
		if _, err := topics.Set(ctx, tx, contactID, id, status, src); err != nil {
			return err
		}
	}
	return nil
}

// Outcome is what a confirmation link did.
type Outcome int

// The outcomes of Confirm.
const (
	// Invalid: forged, malformed, or its signup (or form) no longer exists.
	Invalid Outcome = iota
	// Expired: older than ConfirmTTL; the person can submit the form again.
	Expired
	// Confirmed: this click confirmed the signup.
	Confirmed
	// AlreadyConfirmed: an earlier click did; nothing changed.
	AlreadyConfirmed
)

// ConfirmToken returns the token of a signup's confirmation link.
func (s *Service) ConfirmToken(signupID int64, expires time.Time) string {
	return s.cfg.Keys.sign(kindConfirm, signupID, expires)
}

// Confirm carries out a confirmation link: the signup's topics become
// subscribed (consent records "confirmed" with ip and ua), a pending
// contact active, and the form's confirmations count one more. Confirming
// again changes nothing. formID is the signup's form when known (for the
// expired page's way back).
func (s *Service) Confirm(ctx context.Context, token, ip, ua string) (o Outcome, formID int64, err error) {
	id, expires, ok := s.cfg.Keys.verify(kindConfirm, token)
	if !ok {
		return Invalid, 0, nil
	}
	var sg signup
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		sg, err = getSignup(ctx, tx, id)
		if err != nil {
			return err
		}
		if sg.ConfirmedAt != nil {
			o = AlreadyConfirmed
			return nil
		}
		if now := s.cfg.Now(); now.After(expires) || now.After(sg.ExpiresAt) {
			o = Expired
			return nil
		}
		o = Confirmed
		return s.confirmTx(ctx, tx, id, s.cfg.Now(), &topics.Source{Kind: topics.SourceForm, IP: ip, UserAgent: ua,
			Detail: map[string]any{"form_id": sg.FormID, "signup_id": sg.ID}})
	})
	if errs.Is(err, errs.NotFound) {
		return Invalid, 0, nil
	}
	if err != nil {
		return Invalid, 0, err
	}
	return o, sg.FormID, nil
}

// confirmTx confirms signup id at now: first confirmation only. src is the
// click's source; nil for a form without double opt-in (the submit already
// subscribed and recorded).
func (s *Service) confirmTx(ctx context.Context, tx pgx.Tx, id int64, now time.Time, src *topics.Source) error {
	var got int64
	err := tx.QueryRow(ctx, queries.Get("confirm_signup"), id, now).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("confirm signup %d: %w", id, err)
	}
	sg, err := getSignup(ctx, tx, id)
	if err != nil {
		return err
	}
	c, err := contacts.Get(ctx, tx, sg.ContactID)
	if err != nil {
		return err
	}
	if c.Status == contacts.StatusErased {
		// Erased since the submit: nothing to confirm (the rollback
		// undoes the confirmation).
		return errs.New(errs.NotFound, "no such signup")
	}
	if _, err := contacts.Activate(ctx, tx, sg.ContactID); err != nil {
		return err
	}
	if src != nil {
		if len(sg.TopicIDs) == 0 {
			if err := topics.Record(ctx, tx, sg.ContactID, topics.Consent{Channel: topics.ChannelEmail, Change: topics.ChangeConfirmed, Source: *src}); err != nil {
				return err
			}
		}
		for _, t := range sg.TopicIDs {
			if _, err := topics.Set(ctx, tx, sg.ContactID, t, topics.Subscribed, *src); err != nil && !errs.Is(err, errs.NotFound) {
				return err
			}
		}
	}
	return countEvent(ctx, tx, sg.FormID, EventConfirmation, &id, now)
}

// signup is a form_signups row.
type signup struct {
	ID, FormID, ContactID int64
	TopicIDs              []int64
	CreatedAt, ExpiresAt  time.Time
	ConfirmedAt           *time.Time
}

func getSignup(ctx context.Context, db DBTX, id int64) (signup, error) {
	var sg signup
	err := db.QueryRow(ctx, queries.Get("get_signup"), id).Scan(&sg.ID, &sg.FormID, &sg.ContactID, &sg.TopicIDs, &sg.CreatedAt, &sg.ExpiresAt, &sg.ConfirmedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return signup{}, errs.New(errs.NotFound, "no such signup")
	}
	if err != nil {
		return signup{}, fmt.Errorf("get signup %d: %w", id, err)
	}
	return sg, nil
}

// ConfirmArgs is the job that sends a signup's confirmation mail.
type ConfirmArgs struct {
	SignupID int64 `json:"signup_id"`
}

// Kind implements river.JobArgs.
func (ConfirmArgs) Kind() string { return "form_confirm" }

// InsertOpts: the default queue, a few attempts (a mail a person waits
// for is worth little hours later).
func (ConfirmArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5}
}
