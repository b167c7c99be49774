// Package profile declares the contact's own fields once, for everything
// that shows a contact to what marketers write: templates read them as
// {{ .Contact.Name }}, follow-up rules and segments as contact.name (the
// expr tags). Package contacts stores them and produces a Contact with
// contacts.Contact.Profile; fields a single language needs besides these
// (a segment's consent, stats and scores) stay beside it in that
// language's environment. It imports only the standard library.
package profile

import "time"

// Contact is a contact's own fields. Attributes are free-form (decoded
// JSON: string, float64, bool, nil, []any, map[string]any).
type Contact struct {
	ID         int64          `expr:"id"`
	Email      string         `expr:"email"`
	Name       string         `expr:"name"`
	Attributes map[string]any `expr:"attributes"`
	Tags       []string       `expr:"tags"`
	// Status is active, unsubscribed, bounced, complained or erased.
	Status    string    `expr:"status"`
	CreatedAt time.Time `expr:"created_at"`
}
