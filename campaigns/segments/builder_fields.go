package segments

import (
	"context"
	"fmt"

	"github.com/peykar/peykar/campaigns/contacts"
)

// Field is a field the segment builder offers.
type Field struct {
	// Field is the name in the segment language (contact.attributes.city).
	Field string `json:"field"`
	// Kind is text, number, date, tags or bool: it decides the operators.
	Kind string `json:"kind"`
	// Group is contact, attributes, stats or analytics, for the menu.
	Group string `json:"group"`
	// Values are the known values of a text or tags field (statuses, RFM
	// segments, tags and attribute values seen in the data), offered as
	// suggestions.
	Values []string `json:"values,omitempty"`
	// Window is true for event fields that take a window (a count, a sum).
	Window bool `json:"window,omitempty"`
	// Campaigns are the campaigns opened and clicked offer.
	Campaigns []CampaignChoice `json:"campaigns,omitempty"`
}

// staticFields are the fields of the segment language the builder offers
// besides attributes (see segmentEnv).
var staticFields = []Field{
	{Field: "contact.email", Kind: KindText, Group: "contact"},
	{Field: "contact.name", Kind: KindText, Group: "contact"},
	{Field: "contact.status", Kind: KindText, Group: "contact", Values: []string{"active", "unsubscribed", "bounced", "complained"}},
	{Field: "contact.tags", Kind: KindTags, Group: "contact"},
	{Field: "contact.created_at", Kind: KindDate, Group: "contact"},
	{Field: "contact.consent.source", Kind: KindText, Group: "contact"},
	{Field: "contact.consent.at", Kind: KindDate, Group: "contact"},
	{Field: "stats.sent", Kind: KindNumber, Group: "stats"},
	{Field: "stats.opens", Kind: KindNumber, Group: "stats"},
	{Field: "stats.clicks", Kind: KindNumber, Group: "stats"},
	{Field: "stats.conversions", Kind: KindNumber, Group: "stats"},
	{Field: "stats.revenue", Kind: KindNumber, Group: "stats"},
	{Field: "stats.last_open_at", Kind: KindDate, Group: "stats"},
	{Field: "stats.last_click_at", Kind: KindDate, Group: "stats"},
	{Field: "stats.last_purchase_at", Kind: KindDate, Group: "stats"},
	{Field: "rfm.segment", Kind: KindText, Group: "analytics", Values: []string{"champions", "loyal", "potential_loyalists", "new",
		"promising", "need_attention", "about_to_sleep", "cannot_lose", "at_risk", "hibernating", "lost"}},
	{Field: "rfm.recency", Kind: KindNumber, Group: "analytics"},
	{Field: "rfm.frequency", Kind: KindNumber, Group: "analytics"},
	{Field: "rfm.monetary", Kind: KindNumber, Group: "analytics"},
	{Field: "rfm.value", Kind: KindNumber, Group: "analytics"},
	{Field: "churn.risk", Kind: KindNumber, Group: "analytics"},
	{Field: "response.likelihood", Kind: KindNumber, Group: "analytics"},
	{Field: "cluster.id", Kind: KindNumber, Group: "analytics"},
}

// discoverySample bounds the contacts read to discover attributes and tags.
const discoverySample = 5000

// BuilderFields returns the fields the builder offers: the language's own,
// the event conditions (with the event types and campaigns known), then
// the attributes and tags seen on the newest contacts (a bounded
// sample). An attribute's kind follows the JSON type most of its values
// have, and a text attribute suggests its most common values; objects,
// arrays and nulls are left out.
func BuilderFields(ctx context.Context, db DBTX) ([]Field, error) {
	tags, err := contacts.TagValues(ctx, db, discoverySample)
	if err != nil {
		return nil, fmt.Errorf("builder fields: %w", err)
	}
	attrs, err := contacts.AttributeKinds(ctx, db, discoverySample)
	if err != nil {
		return nil, fmt.Errorf("builder fields: %w", err)
	}
	values, err := contacts.AttributeValues(ctx, db, discoverySample)
	if err != nil {
		return nil, fmt.Errorf("builder fields: %w", err)
	}
	out := make([]Field, 0, len(staticFields)+len(attrs))
	for _, f := range staticFields {
		if f.Kind == KindTags {
			f.Values = tags
		}
		out = append(out, f)
	}
	types, camps, err := eventChoices(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("builder fields: %w", err)
	}
	for _, f := range eventFields {
		if f.Kind == KindCampaign {
			f.Campaigns = camps
		} else {
			f.Values = types
		}
		out = append(out, f)
	}
	kinds := map[string]string{"string": KindText, "number": KindNumber, "boolean": KindBool}
	for _, a := range attrs {
		if k, ok := kinds[a.Type]; ok {
			f := Field{Field: attrPrefix + a.Key, Kind: k, Group: "attributes"}
			if k == KindText {
				f.Values = values[a.Key]
			}
			out = append(out, f)
		}
	}
	return out, nil
}
