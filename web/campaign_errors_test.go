package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/errs"
)

// Every mistake of a campaign is worded from its field path and the
// campaign as typed, in the catalogue's language; one without words keeps
// the API's message, and a path beyond the rows typed does not panic.
func TestExplainWordsEachMistake(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "fa"} {
		msg, err := loadCatalogue(lang)
		require.NoError(t, err)
		cp := &campaigns.Campaign{
			Steps: []campaigns.Step{{Key: "main"}, {Key: ""}},
			Rules: []campaigns.Rule{{Name: "", Actions: []campaigns.Action{{Type: "send", Step: "offer"}}}},
			Goals: []campaigns.Goal{{Name: "engagement", When: "ctr >="}},
		}
		err = errs.Collect([]*errs.Error{
			errs.Field("steps[0].template_id", "is required"),
			errs.Field("steps[1].key", "must be…"),
			errs.Field("rules[0].name", "is required"),
			errs.Field("rules[0].actions[0].step", `"offer" is not a step of this campaign`),
			{Code: errs.Invalid, Field: "goals[0].when", Message: `goal "engagement": unexpected token EOF`, Line: 1, Column: 7},
			errs.Field("settings.currency", "is not an ISO 4217 code"),
			errs.Field("rules[7].name", "is required"),
		})
		got := explainAll(msg.T, cp, err)
		require.Len(t, got, 7)
		want := []string{
			msg.T("err.step_template", "main"),
			msg.T("err.step_key_empty", 2),
			msg.T("err.rule_name_empty", 1),
			msg.T("err.action_step_missing", msg.T("err.rule_n", 1), "offer"),
			msg.T("err.goal_when_at", "engagement", 1, 7, msg.T("err.expr.unexpected_end")),
			"is not an ISO 4217 code",
			"is required",
		}
		for i, p := range got {
			require.Equal(t, want[i], p.Message, "%s: %s", lang, p.Field)
			require.NotContains(t, p.Message, "!err.", "a message id is missing")
		}
		require.Equal(t, "/admin/help/expr#goal", got.HelpFor("goals[0].when"))
		require.Empty(t, got.HelpFor("steps[1].key"))
	}
}
