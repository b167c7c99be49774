package preferences

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// DBTX is what Load reads through: a pool or a transaction.
type DBTX = contacts.DBTX

// Topic is a public topic as the page shows it.
type Topic struct {
	ID          int64
	Name        string
	Description string
	// Subscribed: the contact receives the topic's campaigns. Pending: a
	// signup not yet confirmed (shown unticked; ticking it subscribes).
	Subscribed bool
	Pending    bool
	// Campaign: the topic of the message the page was reached from.
	Campaign bool
}

// View is what the recipient of one message sees on their page.
type View struct {
	DeliveryID int64
	ContactID  int64
	CampaignID int64
	Email      string
	Name       string
	// Language is the campaign's settings.language (en by default).
	Language string
	Topics   []Topic
	// EmailOff: email no longer reaches the contact (unsubscribed,
	// bounced or complained).
	EmailOff bool
}

// Load reads the page of delivery id's recipient. An unknown delivery or
// an erased contact gives errs.NotFound.
func Load(ctx context.Context, db DBTX, deliveryID int64) (View, error) {
	d, err := deliveries.Get(ctx, db, deliveryID)
	if errors.Is(err, pgx.ErrNoRows) {
		return View{}, errs.New(errs.NotFound, "no such message")
	}
	if err != nil {
		return View{}, err
	}
	ct, err := contacts.Get(ctx, db, d.ContactID)
	if err != nil {
		return View{}, err
	}
	if ct.Status == contacts.StatusErased {
		return View{}, errs.New(errs.NotFound, "no such message")
	}
	camp, err := campaigns.Get(ctx, db, d.CampaignID)
	if err != nil {
		return View{}, err
	}
	v := View{DeliveryID: d.ID, ContactID: ct.ID, CampaignID: camp.ID, Email: ct.Email, Name: ct.Name,
		Language: camp.Settings.Language, EmailOff: ct.Status != contacts.StatusActive}
	if v.Language == "" {
		v.Language = "en"
	}
	public, err := topics.List(ctx, db, true, false)
	if err != nil {
		return View{}, err
	}
	subs, err := topics.ForContact(ctx, db, ct.ID)
	if err != nil {
		return View{}, err
	}
	state := make(map[int64]topics.Status, len(subs))
	for _, s := range subs {
		state[s.TopicID] = s.Status
	}
	for _, t := range public {
		v.Topics = append(v.Topics, Topic{ID: t.ID, Name: t.Name, Description: t.Description,
			Subscribed: state[t.ID] == topics.Subscribed, Pending: state[t.ID] == topics.Pending,
			Campaign: slices.Contains(camp.TopicIDs, t.ID)})
	}
	return v, nil
}

// Change is a save of the page: the name, the public topics ticked (the
// others are left), and whether to stop all email.
type Change struct {
	Name           string
	Topics         []int64
	UnsubscribeAll bool
}

// Save applies ch for delivery id's recipient in one transaction: the name
// (contacts.Patch), each public topic whose state differs from the ticks
// (topics.Set through the patch, consent recorded from src), and with
// UnsubscribeAll the email channel (status unsubscribed, a consent record
// on email). Topic ids that are not public topics are ignored, so a forged
// form cannot subscribe anyone to a private list. It answers the view
// after the save.
func Save(ctx context.Context, db contacts.Beginner, deliveryID int64, ch Change, src topics.Source) (View, error) {
	src.Kind = topics.SourcePreferences
	var out View
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		v, err := Load(ctx, tx, deliveryID)
		if err != nil {
			return err
		}
		p := contacts.ContactPatch{Source: src}
		if ch.Name != v.Name {
			p.Name = &ch.Name
		}
		for _, t := range v.Topics {
			want := slices.Contains(ch.Topics, t.ID)
			switch {
			case want && !t.Subscribed:
				p.TopicsAdd = append(p.TopicsAdd, t.ID)
			case !want && (t.Subscribed || t.Pending):
				p.TopicsRemove = append(p.TopicsRemove, t.ID)
			}
		}
		if p.Name != nil || len(p.TopicsAdd) > 0 || len(p.TopicsRemove) > 0 {
			if _, err := contacts.Patch(ctx, tx, v.ContactID, p); err != nil {
				return err
			}
		}
		if ch.UnsubscribeAll && !v.EmailOff {
			if err := UnsubscribeEmail(ctx, tx, v.ContactID, src); err != nil {
				return err
			}
		}
		out, err = Load(ctx, tx, deliveryID)
		return err
	})
	if err != nil {
		return View{}, fmt.Errorf("save preferences: %w", err)
	}
	return out, nil
}

// UnsubscribeEmail stops all email to a contact (status unsubscribed; a
// stronger status stays) and records it on the email channel from src.
func UnsubscribeEmail(ctx context.Context, db DBTX, contactID int64, src topics.Source) error {
	if err := contacts.Suppress(ctx, db, contactID, contacts.StatusUnsubscribed); err != nil {
		return err
	}
	return topics.Record(ctx, db, contactID, topics.Consent{Channel: topics.ChannelEmail, Change: topics.ChangeUnsubscribed, Source: src})
}
