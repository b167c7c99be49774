package segments

import (
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/profile"
)

// TestProfileFieldsInSegments: the profile's fields, embedded in the
// segment environment, read under their expr names beside consent.
func TestProfileFieldsInSegments(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	env := newSegmentEnv(now)
	env.Contact = contactEnv{Contact: profile.Contact{ID: 7, Email: "sara@example.com", Name: "Sara",
		Attributes: map[string]any{"city": "Tehran"}, Tags: []string{"vip"}, Status: "active", CreatedAt: now.AddDate(0, 0, -3)},
		Consent: consentEnv{Source: "form"}}
	for rule, want := range map[string]bool{
		`contact.id == 7 && contact.email endsWith "@example.com" && contact.name == "Sara"`: true,
		`contact.attributes.city == "Tehran" && "vip" in contact.tags && has_tag("vip")`:     true,
		`contact.status == "active" && days_since(contact.created_at) == 3`:                  true,
		`contact.consent.source == "form"`:                                                   true,
		`contact.status == "bounced"`:                                                        false,
	} {
		c, err := CompileSegment(rule)
		require.NoError(t, err, rule)
		var m vm.VM
		got, err := c.eval(&m, env, 7)
		require.NoError(t, err, rule)
		require.Equal(t, want, got, rule)
	}
}
