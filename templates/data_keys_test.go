package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRenderMessageData(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: `Receipt {{ .Data.order_id }}`,
		HTML:    `<p>Order {{ .Data.order_id }}: {{ $.Data.total }} for {{ .Contact.Name }}</p>`,
	})
	require.Equal(t, []string{"order_id", "total"}, c.DataKeys())
	r := render(t, c, Data{Contact: sara, Data: map[string]any{"order_id": "A-1", "total": 49.5}}, nil)
	require.Equal(t, "Receipt A-1", r.Subject)
	require.Equal(t, "<p>Order A-1: 49.5 for Sara</p>", r.HTML)

	// A key the message lacks fails the render and names it.
	_, err := c.Render(Data{Contact: sara, Data: map[string]any{"order_id": "A-1"}}, nil)
	require.ErrorContains(t, err, "total")

	// Campaign mail has no message data: nothing to render .Data from.
	_, err = c.Render(Data{Contact: sara}, nil)
	require.Error(t, err)
}

func TestMessageDataFieldsChecked(t *testing.T) {
	t.Parallel()
	// .Data is free-form, like attributes: any key compiles; a misspelt
	// top-level field still fails on save.
	mustCompile(t, Template{Subject: "x", HTML: `{{ if .Data.coupon }}<p>{{ .Data.coupon }}</p>{{ end }}`})
	_, err := Compile(Template{Subject: "x", HTML: `<p>{{ .Dta.order_id }}</p>`})
	require.Error(t, err)
	require.Contains(t, err.Error(), "Dta")
}
