package contacts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Input limits for profile fields.
const (
	maxNameLen = 500
	maxTagLen  = 100
	maxTags    = 100
)

// ContactInput is the body of POST and PUT /contacts.
type ContactInput struct {
	Email      string         `json:"email"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Tags       []string       `json:"tags"`
	// Status is optional on PUT; "erased" is set only by erasure.
	Status  string   `json:"status,omitempty"`
	Consent *Consent `json:"consent,omitempty"`
}

// normalize validates in and puts it in normal form.
func (in *ContactInput) normalize() error {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	in.Name = strings.TrimSpace(in.Name)
	if !utf8.ValidString(in.Name) || len(in.Name) > maxNameLen {
		return errs.Field("name", "must be valid UTF-8 of at most %d bytes", maxNameLen)
	}
	// The name goes into every message's To header.
	if err := safetext.Line("name", in.Name); err != nil {
		return err
	}
	if in.Attributes == nil {
		in.Attributes = map[string]any{}
	}
	if err := safetext.Value("attributes", in.Attributes); err != nil {
		return err
	}
	if err := checkTimezone(in.Attributes); err != nil {
		return err
	}
	tags, err := normalizeTags(in.Tags)
	if err != nil {
		return err
	}
	in.Tags = tags
	if in.Status != "" {
		if _, ok := statusRank[in.Status]; !ok || in.Status == StatusErased {
			return errs.Field("status", "must be one of active, unsubscribed, bounced, complained")
		}
	}
	if in.Consent != nil {
		if err := safetext.Line("consent.source", in.Consent.Source); err != nil {
			return err
		}
	}
	if in.Consent != nil && in.Consent.IP != "" {
		if _, err := netip.ParseAddr(in.Consent.IP); err != nil {
			return errs.Field("consent.ip", "is not an IP address")
		}
	}
	return nil
}

// normalizeTags trims tags, drops empty ones and duplicates, keeping order.
func normalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if !utf8.ValidString(t) || len(t) > maxTagLen {
			return nil, errs.Field("tags", "each tag must be valid UTF-8 of at most %d bytes", maxTagLen)
		}
		if r, ok := safetext.ControlChar(t); ok {
			return nil, errs.Field("tags", "each tag must be one line without control characters; %q contains %s", t, safetext.Describe(r))
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, errs.Field("tags", "at most %d tags", maxTags)
	}
	return out, nil
}

func consentArgs(c *Consent) (src *string, at *time.Time, ip *string) {
	if c == nil {
		return nil, nil, nil
	}
	s := c.Source
	src = &s
	at = c.At
	if at == nil {
		now := time.Now()
		at = &now
	}
	if c.IP != "" {
		v := c.IP
		ip = &v
	}
	return src, at, ip
}

// Create inserts a contact. An existing address gives errs.Conflict with the
// existing contact's id in Details["id"].
func Create(ctx context.Context, db DBTX, in ContactInput) (Contact, error) {
	if err := in.normalize(); err != nil {
		return Contact{}, err
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	src, at, ip := consentArgs(in.Consent)
	c, err := scanContact(db.QueryRow(ctx, query("create_contact"),
		in.Email, in.Name, in.Attributes, in.Tags, in.Status, src, at, ip))
	if errs.Is(err, errs.NotFound) {
		return Contact{}, conflictFor(ctx, db, in.Email)
	}
	return c, err
}

// conflictFor returns the conflict error naming the contact that holds email.
func conflictFor(ctx context.Context, db DBTX, email string) error {
	var id int64
	if err := db.QueryRow(ctx, query("contact_id_by_email"), email).Scan(&id); err != nil {
		return fmt.Errorf("find existing contact: %w", err)
	}
	return &errs.Error{Code: errs.Conflict, Field: "email", Message: "a contact with this email already exists",
		Details: map[string]any{"id": id}}
}

// Get returns one contact, or errs.NotFound.
func Get(ctx context.Context, db DBTX, id int64) (Contact, error) {
	return scanContact(db.QueryRow(ctx, query("get_contact"), id))
}

// Update replaces a contact's profile (email, name, attributes, tags, and
// consent and status when given). An erased contact cannot be updated
// (errs.Conflict); an email held by another contact gives errs.Conflict.
func Update(ctx context.Context, db DBTX, id int64, in ContactInput) (Contact, error) {
	if err := in.normalize(); err != nil {
		return Contact{}, err
	}
	src, at, ip := consentArgs(in.Consent)
	c, err := scanContact(db.QueryRow(ctx, query("update_contact"),
		id, in.Email, in.Name, in.Attributes, in.Tags, in.Status, src, at, in.Consent != nil, ip))
	if err != nil && isUniqueViolation(err) {
		return Contact{}, conflictFor(ctx, db, in.Email)
	}
	if errs.Is(err, errs.NotFound) {
		if _, gerr := Get(ctx, db, id); gerr == nil {
			return Contact{}, errs.New(errs.Conflict, "the contact was erased")
		}
	}
	return c, err
}

// GetMany returns the contacts with the given ids in one query, in no
// particular order; unknown ids are left out.
func GetMany(ctx context.Context, db DBTX, ids []int64) ([]Contact, error) {
	rows, err := db.Query(ctx, query("get_contacts"), ids)
	if err != nil {
		return nil, fmt.Errorf("get contacts: %w", err)
	}
	defer rows.Close()
	out := make([]Contact, 0, len(ids))
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetProfiles is GetMany for sending: each contact with only the fields a
// message is built from (those of Profile: id, email, name, attributes,
// tags, status, created_at); its counters, consent and revenue are left
// zero. A send reads its recipients with every chunk, and those fields
// cost a join with contact_stats and their decoding per recipient.
func GetProfiles(ctx context.Context, db DBTX, ids []int64) ([]Contact, error) {
	rows, err := db.Query(ctx, query("get_profiles"), ids)
	if err != nil {
		return nil, fmt.Errorf("get contacts: %w", err)
	}
	defer rows.Close()
	out := make([]Contact, 0, len(ids))
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.ID, &c.Email, &c.Name, &c.Attributes, &c.Tags, &c.Status, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan contact: %w", err)
		}
		if c.Attributes == nil {
			c.Attributes = map[string]any{}
		}
		if c.Tags == nil {
			c.Tags = []string{}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EnsureByEmail returns the id of the contact with email, creating an
// active contact when there is none. An invalid address gives errs.Invalid.
func EnsureByEmail(ctx context.Context, db DBTX, email string) (id int64, created bool, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return 0, false, err
	}
	err = db.QueryRow(ctx, query("insert_contact_by_email"), email).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("ensure contact: %w", err)
	}
	if err := db.QueryRow(ctx, query("contact_id_by_email"), email).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("ensure contact: %w", err)
	}
	return id, false, nil
}

// EnsureByEmailTagged is EnsureByEmail that tags a contact it creates
// with tag, so the contact says where it came from (the transactional API
// tags its contacts "transactional-api": no consent implied, and segments
// can leave them out). An existing contact is left as it is.
func EnsureByEmailTagged(ctx context.Context, db DBTX, email, tag string) (id int64, created bool, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return 0, false, err
	}
	// Most messages go to known people: look first, insert only when new.
	err = db.QueryRow(ctx, query("contact_id_by_email"), email).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("ensure contact: %w", err)
	}
	err = db.QueryRow(ctx, query("insert_contact_by_email_tagged"), email, tag).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, fmt.Errorf("ensure contact: %w", err)
	}
	if err := db.QueryRow(ctx, query("contact_id_by_email"), email).Scan(&id); err != nil {
		return 0, false, fmt.Errorf("ensure contact: %w", err)
	}
	return id, false, nil
}
