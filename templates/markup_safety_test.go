package templates

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// TestUnsafeMarkup names each thing email cannot carry, however it is
// spelt, and passes ordinary email markup.
func TestUnsafeMarkup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		html string
		want []string
	}{
		{`<table role="presentation"><tr><td style="padding:8px"><a href="https://shop.example/">Shop</a> <img src="https://shop.example/a.png" alt="A"></td></tr></table>`, nil},
		{`<p>Hi</p><script>alert(1)</script>`, []string{"<script>"}},
		{`<SCRIPT src="https://x.example/a.js"></SCRIPT>`, []string{"<script>"}},
		{`<a href="https://shop.example/" onclick="steal()">x</a>`, []string{"onclick on <a>"}},
		{`<img src="a.png" alt="a" OnError="x()">`, []string{"onerror on <img>"}},
		{`<a href="javascript:alert(1)">x</a>`, []string{"javascript: in href of <a>"}},
		{`<a href=" JaVa&#x09;Script:alert(1)">x</a>`, []string{"javascript: in href of <a>"}},
		{`<iframe src="https://x.example/"></iframe><embed src="x"><object data="x"></object>`, []string{"<iframe>", "<embed>", "<object>"}},
		{`<p>javascript: is a word here</p><a href="https://x.example/?q=javascript:">ok</a>`, nil},
	} {
		require.Equal(t, tc.want, UnsafeMarkup(tc.html), tc.html)
	}
}

// TestCheckDesignRefusesUnsafeRawHTML: a raw HTML block, anywhere in the
// design, is refused on save with what was refused; a safe one, and the
// same markup outside a raw block's "raw" property, save.
func TestCheckDesignRefusesUnsafeRawHTML(t *testing.T) {
	t.Parallel()
	design := func(raw string) json.RawMessage {
		b, err := json.Marshal(map[string]any{"pages": []any{map[string]any{"frames": []any{map[string]any{"component": map[string]any{
			"type": "wrapper", "components": []any{map[string]any{"type": RawHTMLType, "raw": raw}}}}}}}})
		require.NoError(t, err)
		return b
	}
	require.NoError(t, CheckDesign(design(`<table role="presentation"><tr><td>Hi</td></tr></table>`)))
	require.NoError(t, CheckDesign(nil))

	tpl := Template{Name: "raw", Subject: "Hi", HTML: `<p>Hi <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
		Design: design(`<p onclick="x()">Hi</p><script>alert(1)</script><a href="javascript:go()">go</a>`)}
	err := Validate(tpl)
	var e *errs.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, errs.Invalid, e.Code)
	require.Equal(t, "design", e.Field)
	require.Equal(t, UnsafeRawHTMLPrefix+"onclick on <p>, <script>, javascript: in href of <a>", e.Message)

	tpl.Design = design(`<p>Hi</p>`)
	require.NoError(t, Validate(tpl))
}
