package contacts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// maxAttributeKeyLen bounds an attribute's name.
const maxAttributeKeyLen = 200

// ContactPatch is the body of PATCH /contacts/{id}: only the fields given
// change. Attributes are merged key by key and a null value removes its
// key; TagsAdd and TagsRemove add and remove tags (a tag in both is
// removed); Status is any status but erased.
type ContactPatch struct {
	Name       *string        `json:"name,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	TagsAdd    []string       `json:"tags_add,omitempty"`
	TagsRemove []string       `json:"tags_remove,omitempty"`
	Status     *string        `json:"status,omitempty"`
	// TopicsAdd subscribes to and TopicsRemove unsubscribes from topics by
	// id (a topic in both is unsubscribed), each change recorded with
	// Source (the API's handler sets it; empty: an API change).
	TopicsAdd    []int64       `json:"topics_add,omitempty"`
	TopicsRemove []int64       `json:"topics_remove,omitempty"`
	Source       topics.Source `json:"-"`
}

// normalize validates p and puts it in normal form; every problem is
// reported, each with its field path.
func (p *ContactPatch) normalize() error {
	var list []*errs.Error
	add := func(err error) {
		if err == nil {
			return
		}
		var e *errs.Error
		if errors.As(err, &e) {
			list = append(list, e)
			return
		}
		list = append(list, &errs.Error{Code: errs.Invalid, Message: "invalid input", Err: err})
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		p.Name = &n
		if !utf8.ValidString(n) || len(n) > maxNameLen {
			add(errs.Field("name", "must be valid UTF-8 of at most %d bytes", maxNameLen))
		} else {
			add(safetext.Line("name", n))
		}
	}
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field := "attributes." + k
		if strings.TrimSpace(k) == "" || len(k) > maxAttributeKeyLen || !utf8.ValidString(k) {
			add(errs.Field("attributes", "each key must be 1 to %d bytes of UTF-8 text", maxAttributeKeyLen))
			continue
		}
		if r, ok := safetext.ControlChar(k); ok {
			add(errs.Field("attributes", "key %q contains %s", k, safetext.Describe(r)))
			continue
		}
		add(safetext.Value(field, p.Attributes[k]))
	}
	add(checkTimezone(p.Attributes))
	var err error
	if p.TagsAdd, err = normalizeTags(p.TagsAdd); err != nil {
		add(renameField(err, "tags_add"))
	}
	if p.TagsRemove, err = normalizeTags(p.TagsRemove); err != nil {
		add(renameField(err, "tags_remove"))
	}
	if p.Status != nil {
		if _, ok := statusRank[*p.Status]; !ok || *p.Status == StatusErased {
			add(errs.Field("status", "must be one of active, unsubscribed, bounced, complained"))
		}
	}
	return errs.Collect(list)
}

// renameField moves a validation error to field.
func renameField(err error, field string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// apply returns c's profile with p applied: attributes merged (nil removes
// a key), tags added then removed, keeping their order.
func (p *ContactPatch) apply(c Contact) (name string, attrs map[string]any, tags []string, status string) {
	name, status = c.Name, c.Status
	if p.Name != nil {
		name = *p.Name
	}
	if p.Status != nil {
		status = *p.Status
	}
	attrs = make(map[string]any, len(c.Attributes)+len(p.Attributes))
	for k, v := range c.Attributes {
		attrs[k] = v
	}
	for k, v := range p.Attributes {
		if v == nil {
			delete(attrs, k)
		} else {
			attrs[k] = v
		}
	}
	tags = slices.Clone(c.Tags)
	for _, t := range p.TagsAdd {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(p.TagsRemove, t) })
	return name, attrs, tags, status
}

// Beginner starts a transaction: a *pgxpool.Pool, a *pgx.Conn, or a pgx.Tx
// (a savepoint).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Patch changes the fields p gives and leaves the rest as they are (PATCH
// /contacts/{id}). The row is locked while the change is worked out, so two
// patches of the same contact each see the other's result. An unknown
// contact gives errs.NotFound, an erased one errs.Conflict, an invalid patch
// errs.Invalid with every problem and its field.
func Patch(ctx context.Context, db Beginner, id int64, p ContactPatch) (Contact, error) {
	if err := p.normalize(); err != nil {
		return Contact{}, err
	}
	var out Contact
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		c, err := scanContact(tx.QueryRow(ctx, query("lock_contact"), id))
		if err != nil {
			return err
		}
		if c.Status == StatusErased {
			return errs.New(errs.Conflict, "the contact was erased")
		}
		name, attrs, tags, status := p.apply(c)
		if len(tags) > maxTags {
			return errs.Field("tags_add", "a contact holds at most %d tags", maxTags)
		}
		out, err = scanContact(tx.QueryRow(ctx, query("patch_contact"), id, name, attrs, tags, status))
		if err != nil {
			return err
		}
		out.Topics, err = p.applyTopics(ctx, tx, id)
		return err
	})
	if err != nil {
		return Contact{}, err
	}
	return out, nil
}
