package factory

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// seq numbers default emails so that contacts made without Email differ.
var seq atomic.Int64

// ContactOption sets a field of the contact Contact creates.
type ContactOption func(*contactSpec)

type contactSpec struct {
	in      contacts.ContactInput
	created *time.Time
}

// Email sets the contact's address (default: factory-N@example.com).
func Email(email string) ContactOption {
	return func(s *contactSpec) { s.in.Email = email }
}

// Name sets the contact's name (default: empty).
func Name(name string) ContactOption {
	return func(s *contactSpec) { s.in.Name = name }
}

// Attr sets one attribute of the contact (default: none).
func Attr(key string, value any) ContactOption {
	return func(s *contactSpec) {
		if s.in.Attributes == nil {
			s.in.Attributes = map[string]any{}
		}
		s.in.Attributes[key] = value
	}
}

// Tags adds tags to the contact (default: none).
func Tags(tags ...string) ContactOption {
	return func(s *contactSpec) { s.in.Tags = append(s.in.Tags, tags...) }
}

// Status sets the contact's status (default: active).
func Status(status string) ContactOption {
	return func(s *contactSpec) { s.in.Status = status }
}

// Consent records the contact's consent from source at time at.
func Consent(source string, at time.Time) ContactOption {
	return func(s *contactSpec) { s.in.Consent = &contacts.Consent{Source: source, At: &at} }
}

// CreatedAt backdates the contact's creation (default: now).
func CreatedAt(at time.Time) ContactOption {
	return func(s *contactSpec) { s.created = &at }
}

// Contact creates a contact with contacts.Create (so its address is
// normalised and checked) and returns it.
func Contact(t testing.TB, db contacts.DBTX, opts ...ContactOption) contacts.Contact {
	t.Helper()
	var s contactSpec
	for _, o := range opts {
		o(&s)
	}
	if s.in.Email == "" {
		s.in.Email = fmt.Sprintf("factory-%d@example.com", seq.Add(1))
	}
	ctx := context.Background()
	c, err := contacts.Create(ctx, db, s.in)
	require.NoError(t, err, "factory: create contact %s", s.in.Email)
	if s.created != nil {
		require.NoError(t, contacts.Backdate(ctx, db, c.ID, *s.created))
		c.CreatedAt = *s.created
	}
	return c
}
