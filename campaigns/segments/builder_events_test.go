package segments

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
)

// TestBuilderEventConditions: the builder writes and reads event and
// campaign conditions, refuses incomplete ones naming the field, and
// offers the recorded event types and the campaigns.
func TestBuilderEventConditions(t *testing.T) {
	t.Parallel()
	tree := Node{Match: "all", Items: []Node{
		{Field: "events.count", Op: "gt", Value: "0", Event: "cart_abandoned", Window: "7d"},
		{Field: "events.count", Op: "eq", Value: "0", Event: "purchase", Window: "7d"},
		{Field: "events.last.value", Op: "gt", Value: "100", Event: "purchase"},
		{Field: "opened", Op: "engaged", Value: "Nowruz sale"},
		{Field: "clicked", Op: "not_engaged", Value: "12"},
	}}
	rule, err := Rule(tree)
	require.NoError(t, err)
	require.Equal(t, `events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0 && `+
		`events.last("purchase").value > 100 && opened("Nowruz sale") && !clicked(12)`, rule)
	back, err := ParseBuilder(rule)
	require.NoError(t, err)
	require.Equal(t, tree, back)

	for _, tc := range []struct {
		c     Node
		field string
	}{
		{Node{Field: "events.count", Op: "gt", Value: "0", Window: "7d"}, "tree.items[0].event"},
		{Node{Field: "events.count", Op: "gt", Value: "0", Event: "purchase", Window: "7 days"}, "tree.items[0].window"},
		{Node{Field: "events.sum", Op: "gt", Value: "0", Event: "purchase"}, "tree.items[0].window"},
		{Node{Field: "events.last.value", Op: "gt", Value: "1", Event: "purchase", Window: "7d"}, "tree.items[0].window"},
		{Node{Field: "events.count", Op: "between", Value: "1", Value2: "2", Event: "purchase", Window: "7d"}, "tree.items[0].op"},
		{Node{Field: "opened", Op: "engaged"}, "tree.items[0].value"},
		{Node{Field: "opened", Op: "engaged", Value: "007"}, "tree.items[0].value"},
		{Node{Field: "opened", Op: "gt", Value: "1"}, "tree.items[0].op"},
		{Node{Field: "stats.opens", Op: "gt", Value: "1", Window: "7d"}, "tree.items[0].event"},
	} {
		_, err := Rule(Node{Match: "all", Items: []Node{tc.c}})
		var e *errs.Error
		require.ErrorAs(t, err, &e, "%+v", tc.c)
		require.Equal(t, tc.field, e.Field, e.Message)
	}

	b := setup(t)
	id := b.mustCreate(t, contacts.ContactInput{Email: "e@example.com"})
	_, err = contacts.InsertTransactions(b.ctx, b.pool, []contacts.TransactionRow{{ContactID: id, Type: "webinar_joined"}})
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO campaigns (name) VALUES ('Nowruz sale')`) // only its package writes campaigns
	require.NoError(t, err)
	fields, err := BuilderFields(b.ctx, b.pool)
	require.NoError(t, err)
	byName := map[string]Field{}
	for _, f := range fields {
		byName[f.Field] = f
	}
	require.Equal(t, []string{"signup", "purchase", "cart_abandoned", "webinar_joined"}, byName["events.count"].Values)
	require.True(t, byName["events.sum"].Window)
	require.False(t, byName["events.last.value"].Window)
	require.Equal(t, []CampaignChoice{{ID: 1, Name: "Nowruz sale"}}, byName["opened"].Campaigns)
}
