package campaigns

import (
	"testing"

	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/require"
)

// TestRuleMissingAttributeIsFalseLikeSegments: every way a predicate can
// trip over a missing attribute makes it false without an error (a segment
// leaves such a contact out), while errors over present values and the
// evaluation budget are still errors.
func TestRuleMissingAttributeIsFalseLikeSegments(t *testing.T) {
	t.Parallel()
	env := &RuleEnv{Contact: RuleContact{Email: "a@b.example", Attributes: map[string]any{"plan": "pro", "word": "<nil>"}}}
	for _, when := range []string{
		`contact.attributes.score > 3`,
		`contact.attributes.score >= 3`,
		`3 < contact.attributes.score`,
		`contact.attributes.score + 1 > 3`,
		`-contact.attributes.score < 0`,
		`not (contact.attributes.score > 3)`,
		`contact.attributes.address.city == "Tehran"`,
		`contact.attributes.list[0] == 1`,
		`len(contact.attributes.nick) > 0`,
		`lower(contact.attributes.nick) == "x"`,
		`int(contact.attributes.score) > 3`,
		`contact.attributes.score > 3 || contact.attributes.plan == "pro"`, // stops at the first missing value, as a segment's Go path does
	} {
		rs, err := CompileRules([]Rule{{Name: "r", On: "click", When: when}})
		require.NoError(t, err, when)
		var m vm.VM
		ok, err := rs[0].Matches(&m, env)
		require.NoError(t, err, when)
		require.False(t, ok, when)
	}
	rs, err := CompileRules([]Rule{{Name: "r", On: "click", When: `contact.attributes.score == nil || contact.attributes.score > 3`}})
	require.NoError(t, err)
	var m vm.VM
	ok, err := rs[0].Matches(&m, env)
	require.NoError(t, err)
	require.True(t, ok, "an explicit nil test includes contacts without the attribute")
	for when, want := range map[string]string{
		`contact.attributes.plan > 3`:             "invalid operation: string > int",
		`int(contact.attributes.word) > 3`:        "invalid operation: int(<nil>)", // a present string, not a missing value
		`len(repeat(contact.email, 1000000)) > 0`: "evaluation budget",
		`contact.attributes.plan.x == 1`:          "invalid operation",
		`int(contact.attributes.plan) > 3`:        `invalid operation: int(pro)`,
	} {
		rs, err := CompileRules([]Rule{{Name: "r", On: "click", When: when}})
		require.NoError(t, err, when)
		var m vm.VM
		_, err = rs[0].Matches(&m, env)
		require.ErrorContains(t, err, want, when)
		require.ErrorContains(t, err, `rule "r"`)
	}
}
