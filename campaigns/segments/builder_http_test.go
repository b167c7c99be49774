package segments

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
)

// TestBuilderHTTP: the fields come from the data; a tree becomes a rule
// whose preview count equals Count of the saved segment and whose tree
// reads back; a rule the builder cannot show says so; a bad tree is a 422
// naming the part at fault.
func TestBuilderHTTP(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	for i := range 12 {
		city := []string{"Tehran", "Shiraz", "Tabriz"}[i%3]
		a.mustCreate(t, contacts.ContactInput{Email: fmt.Sprintf("b%d@example.com", i),
			Attributes: map[string]any{"city": city, "spend": i * 100, "vip": i%2 == 0}, Tags: []string{fmt.Sprintf("t%d", i%4)}})
	}

	code, out := a.do(http.MethodGet, "/segments/builder/fields", nil)
	require.Equal(t, http.StatusOK, code, out)
	kinds := map[string]string{}
	var tags, cities []any
	for _, it := range out["items"].([]any) {
		f := it.(map[string]any)
		kinds[f["field"].(string)] = f["kind"].(string)
		switch f["field"] {
		case "contact.tags":
			tags = f["values"].([]any)
		case "contact.attributes.city":
			cities = f["values"].([]any)
		}
	}
	require.Equal(t, []any{"Shiraz", "Tabriz", "Tehran"}, cities, "four of each, by name")
	require.Equal(t, KindText, kinds["contact.attributes.city"])
	require.Equal(t, KindNumber, kinds["contact.attributes.spend"])
	require.Equal(t, KindBool, kinds["contact.attributes.vip"])
	require.Equal(t, KindNumber, kinds["stats.revenue"])
	require.Equal(t, []any{"t0", "t1", "t2", "t3"}, tags)

	tree := map[string]any{"match": "all", "items": []any{
		map[string]any{"field": "contact.attributes.city", "op": "is", "value": "Tehran"},
		map[string]any{"match": "any", "items": []any{
			map[string]any{"field": "contact.attributes.spend", "op": "between", "value": "200", "value2": "700"},
			map[string]any{"field": "contact.tags", "op": "has", "value": "t1"},
		}},
	}}
	code, out = a.do(http.MethodPost, "/segments/builder/rule", map[string]any{"tree": tree})
	require.Equal(t, http.StatusOK, code, out)
	rule := out["rule"].(string)
	require.Equal(t, `contact.attributes.city == "Tehran" && ((200 <= contact.attributes.spend && contact.attributes.spend <= 700) || has_tag("t1"))`, rule)

	code, out = a.do(http.MethodPost, "/segments/preview", map[string]any{"rule": rule})
	require.Equal(t, http.StatusOK, code, out)
	code, seg := a.do(http.MethodPost, "/segments", map[string]any{"name": "built", "rule": rule})
	require.Equal(t, http.StatusCreated, code, seg)
	compiled, err := CompileStored(a.ctx, a.pool, idOf(t, seg))
	require.NoError(t, err)
	n, err := Count(a.ctx, a.pool, compiled)
	require.NoError(t, err)
	require.Equal(t, float64(n), out["count"])
	require.Equal(t, int64(3), n) // Tehran: 0, 3, 6, 9 → spend 300, 600 and t1 at 9

	code, out = a.do(http.MethodPost, "/segments/builder/tree", map[string]any{"rule": rule})
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, true, out["fits"])
	require.Equal(t, tree, out["tree"])

	code, out = a.do(http.MethodPost, "/segments/builder/tree", map[string]any{"rule": `contact.email endsWith "@example.com"`})
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, false, out["fits"])
	require.NotEmpty(t, out["reason"])

	code, out = a.do(http.MethodPost, "/segments/builder/tree", map[string]any{"rule": `stats.nope > 1`})
	require.Equal(t, http.StatusUnprocessableEntity, code, out)

	bad := map[string]any{"match": "all", "items": []any{map[string]any{"field": "stats.opens", "op": "gt", "value": "lots"}}}
	code, out = a.do(http.MethodPost, "/segments/builder/rule", map[string]any{"tree": bad})
	require.Equal(t, http.StatusUnprocessableEntity, code, out)
	require.Equal(t, "tree.items[0].value", out["error"].(map[string]any)["field"])
}
