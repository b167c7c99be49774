package messages

import (
	"crypto/sha256"
	"encoding/json"
	"errors"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
)

// MaxData is the most bytes a message's data may take as JSON.
const MaxData = 32 << 10

// MaxKey is the longest Idempotency-Key accepted, in bytes.
const MaxKey = 255

// Input is the body of POST /api/v1/messages: a template to one contact
// (contact_id) or address (to), with the message's own data.
type Input struct {
	TemplateID int64  `json:"template_id"`
	To         string `json:"to,omitempty"`
	ContactID  int64  `json:"contact_id,omitempty"`
	// Data is available in the template as {{ .Data.key }}.
	Data map[string]any `json:"data,omitempty"`
	// Transactional sends to a contact who unsubscribed from marketing (a
	// receipt); allowed only for templates an admin marked transactional.
	// Hard bounces and complaints still hold the message back.
	Transactional bool `json:"transactional,omitempty"`
}

// normalize checks the request's shape and normalises the address.
func (in *Input) normalize() error {
	var p []*errs.Error
	if in.TemplateID <= 0 {
		p = append(p, errs.Field("template_id", "is required: the id of the template to send"))
	}
	switch {
	case in.To == "" && in.ContactID == 0:
		p = append(p, errs.Field("to", "is required: an address, or give contact_id instead"))
	case in.To != "" && in.ContactID != 0:
		p = append(p, errs.Field("to", "give either to or contact_id, not both"))
	case in.ContactID < 0:
		p = append(p, errs.Field("contact_id", "must be a contact's id"))
	case in.To != "":
		email, err := contacts.NormalizeEmail(in.To)
		var e *errs.Error
		if errors.As(err, &e) {
			e.Field = "to"
			p = append(p, e)
		} else if err != nil {
			return err
		}
		in.To = email
	}
	if in.Data != nil {
		b, err := json.Marshal(in.Data)
		if err != nil {
			p = append(p, errs.Field("data", "cannot be stored: %v", err))
		} else if len(b) > MaxData {
			p = append(p, errs.Field("data", "is %d bytes of JSON; at most %d", len(b), MaxData))
		}
	}
	return errs.Collect(p)
}

// hash is the request's fingerprint for an idempotency key: the same key
// with a different request is refused.
func (in Input) hash() []byte {
	b, _ := json.Marshal(in) // a normalised Input always marshals (checked above)
	sum := sha256.Sum256(b)
	return sum[:]
}

// checkKey validates an Idempotency-Key header: printable ASCII, at most
// MaxKey bytes.
func checkKey(key string) error {
	if len(key) > MaxKey {
		return errs.Field("Idempotency-Key", "is %d bytes; at most %d", len(key), MaxKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return errs.Field("Idempotency-Key", "must be printable ASCII (a UUID, say); byte %d is not", i+1)
		}
	}
	return nil
}
