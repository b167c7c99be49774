package templates

import (
	"context"
	"encoding/json"
	"time"

	"github.com/peykar/peykar/internal/profile"
)

// Template is an email template as marketers write it. Subject and Text are
// text/template sources, HTML is an html/template source; an empty Text is
// generated from HTML when the template is compiled.
type Template struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
	// Design is the visual editor's document (GrapesJS project JSON), kept
	// so the template reopens in the editor; nil for templates written as
	// code. Rendering never reads it: HTML is what is sent.
	Design json.RawMessage `json:"design"`
	// Transactional marks a template that deliberately has no unsubscribe
	// link (a receipt): the pre-send checks accept it without one.
	Transactional bool      `json:"transactional"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// ArchivedAt is when the template was archived: hidden from lists,
	// still sent by the campaigns that have it. Read-only.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// Data is what a template sees: {{ .Contact.Name }}, {{ .Campaign.Name }},
// and a transactional message's own data: {{ .Data.order_id }}.
type Data struct {
	Contact  Contact
	Campaign Campaign
	// Data is the per-message data of a transactional message (POST
	// /api/v1/messages "data"); nil for campaign mail. A key the template
	// reads and the message lacks fails the render, like a missing
	// attribute.
	Data map[string]any
}

// PreferencesURL declares {{ .PreferencesURL }} to the template checker,
// which walks Data's fields and methods; a message's value is its
// tracker's (PreferencesTracker), "#" without one.
func (*Data) PreferencesURL() string { return "#" }

// Contact is the recipient as templates see it: the one contact profile
// ({{ .Contact.Name }}, {{ .Contact.Attributes.city }}).
type Contact = profile.Contact

// Campaign is the campaign a message belongs to (zero in previews).
type Campaign struct {
	ID   int64
	Name string
}

// Link is one trackable link of a compiled template, in document order.
// Personalised links (hrefs holding template actions) have the href's
// template source as URL and Personalised set: their target is rendered per
// recipient and handed to Tracker.ClickURL.
type Link struct {
	Idx          int    `json:"idx"`
	URL          string `json:"url"`
	Name         string `json:"name"`
	Personalised bool   `json:"personalised,omitempty"`
}

// Rendered is one rendered message.
type Rendered struct {
	Subject string
	HTML    string
	Text    string
}

// Tracker makes the per-delivery tracking URLs. A nil Tracker means no
// tracking (previews, test sends): links are left as they are, no open pixel
// or honeypot link is added, and unsubscribe_url renders "#".
type Tracker interface {
	// ClickURL returns the tracked URL for link idx; target is the link's
	// (rendered) original URL.
	ClickURL(idx int, target string) string
	// OpenURL returns the open pixel's URL.
	OpenURL() string
	// UnsubscribeURL returns the recipient's unsubscribe URL.
	UnsubscribeURL() string
	// HoneypotURL returns the URL of the hidden link only machines follow.
	HoneypotURL() string
}

// TestSender sends one rendered message to an address (implemented by the
// engine's mailer; wired by cmd).
type TestSender interface {
	SendTest(ctx context.Context, to string, r *Rendered) error
}

// ContactLookup loads the contact a preview renders for (wired by cmd from
// the contacts package). It returns an errs.NotFound error for an unknown id.
type ContactLookup func(ctx context.Context, id int64) (Contact, error)
