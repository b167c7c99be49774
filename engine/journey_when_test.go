package engine_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEntryWhenMistakes: a `when` that does not compile is refused at save
// with its field and position; one that fails when it runs (past its
// evaluation budget) is recorded as a failed entry with the reason, the
// worker goes on, and the next event that passes enters.
func TestEntryWhenMistakes(t *testing.T) {
	t.Parallel()
	j := setupJourneys(t)
	tpl := j.templates(t, "Welcome")
	c := welcomeSeries([]int64{tpl[0], tpl[0], tpl[0]}, "never")
	c["steps"] = []map[string]any{{"key": "welcome", "template_id": tpl[0]}}
	c["rules"] = []map[string]any{}

	c["entry"] = map[string]any{"type": "event", "event": "signup", "when": `event.value > 1 && contact.nope`}
	code, out := callJSON(t, http.MethodPost, j.srv.URL+"/api/v1/campaigns", c)
	require.Equal(t, http.StatusUnprocessableEntity, code, out)
	e := out["error"].(map[string]any)
	require.Equal(t, "entry.when", e["field"])
	require.EqualValues(t, 28, e["position"], e["message"])

	c["entry"] = map[string]any{"type": "event", "event": "signup", "when": `len(repeat("x", int(event.value))) > 0`}
	id := j.createJourney(t, c)
	j.postEvent(t, "big@example.com", "signup", 1e9) // past the evaluation budget
	j.waitJourneyJobs(t)
	j.waitEntry(t, id, "big@example.com", "failed")
	failed := j.entries(t, id, "?status=failed")
	require.Len(t, failed, 1)
	require.Contains(t, failed[0].ExitReason, "evaluation budget")
	require.True(t, strings.HasPrefix(failed[0].ExitReason, "entry.when: "), failed[0].ExitReason)

	j.postEvent(t, "big@example.com", "signup", 3) // a failed entry does not count against reentry
	j.waitReceived(t, "big@example.com", 1)
	j.waitEntry(t, id, "big@example.com", "done", "failed")

	code, body := get(t, j.srv.URL+"/api/v1/campaigns/"+itoa(id)+"/entries?status=gone")
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	require.Contains(t, body, "status")
}
