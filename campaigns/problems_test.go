package campaigns

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// Validation reports every mistake at once, each with its field, the
// first one also as the error itself (the API's answer names it).
func TestNormalizeReportsEveryMistake(t *testing.T) {
	t.Parallel()
	c := validCampaign()
	c.Rules[0].Actions[0].Step = "offer" // no such step
	c.Goals[0].When = "open_rate >= "    // does not compile
	c.Steps[1].TemplateID = -1           // not a template (0, none yet, saves: launch refuses it)
	c.Rules[1].Name = c.Rules[0].Name    // duplicate rule name
	err := c.normalize()
	require.Error(t, err)
	var fields []string
	for _, e := range errs.All(err) {
		fields = append(fields, e.Field)
	}
	require.Equal(t, []string{"steps[1].template_id", "rules[0].actions[0].step", "rules[1].name", "goals[0].when"}, fields)
	var first *errs.Error
	require.ErrorAs(t, err, &first)
	require.Equal(t, "steps[1].template_id", first.Field)
	goal := errs.All(err)[3]
	require.Equal(t, 1, goal.Line)
	require.Positive(t, goal.Column)

	// One mistake: the error itself, no list.
	c = validCampaign()
	c.Name = ""
	err = c.normalize()
	require.Len(t, errs.All(err), 1)
	require.ErrorAs(t, err, &first)
	require.Empty(t, first.Errors)
}
