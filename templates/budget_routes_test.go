package templates

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// Through real HTTP: a template that passes a budget is refused on save and
// in a draft preview; one that passes it only for a given contact answers
// 422 in its preview and test send, and sends nothing.
func TestAPIRenderBudget(t *testing.T) {
	t.Parallel()
	f := setup(t, true)
	bomb := "<p>\n{{ $n := 100000000000 }}{{ range $n }}x{{ end }}</p>"

	var e apiError
	code := call(t, "POST", f.url+"/templates", map[string]string{"name": "bomb", "subject": "s", "html": bomb}, &e)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, errs.Invalid, e.Error.Code)
	require.Equal(t, "html", e.Error.Field)
	require.Equal(t, 2, e.Error.Line)
	require.Equal(t, `template "bomb" html: more than 10000 loop iterations, all loops summed (line 2)`, e.Error.Message)

	e = apiError{}
	code = call(t, "POST", f.url+"/templates/preview", map[string]any{"subject": "s", "html": bomb}, &e)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, e.Error.Message, "more than 10000 loop iterations")

	var created templateJSON
	require.Equal(t, http.StatusCreated, call(t, "POST", f.url+"/templates",
		map[string]string{"name": "tags", "subject": "s", "html": nestedTags}, &created))
	id := itoa(created.ID)
	require.Equal(t, http.StatusOK, call(t, "POST", f.url+"/templates/"+id+"/preview", map[string]any{"contact_id": 1}, nil))
	for path, body := range map[string]map[string]any{
		"/preview": {"contact_id": taggedContactID},
		"/test":    {"contact_id": taggedContactID, "to": "me@example.com"},
	} {
		e = apiError{}
		code = call(t, "POST", f.url+"/templates/"+id+path, body, &e)
		require.Equal(t, http.StatusUnprocessableEntity, code, path)
		require.Equal(t, "html", e.Error.Field, path)
		require.Equal(t, `template "tags" html: more than 10000 loop iterations, all loops summed (line 2)`, e.Error.Message, path)
	}
	require.Empty(t, f.sender.sent, "nothing was sent")
}
