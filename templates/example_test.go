package templates_test

import (
	"errors"
	"fmt"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// exampleTracker stands in for the engine's signed tracking URLs.
type exampleTracker struct{}

func (exampleTracker) ClickURL(idx int, _ string) string {
	return fmt.Sprintf("https://t.example/c/%d", idx)
}
func (exampleTracker) OpenURL() string        { return "https://t.example/o" }
func (exampleTracker) UnsubscribeURL() string { return "https://t.example/u" }
func (exampleTracker) HoneypotURL() string    { return "https://t.example/h" }

func Example() {
	c, err := templates.Compile(templates.Template{
		Name:    "welcome",
		Subject: "Hi {{ .Contact.Name | default \"friend\" }}",
		HTML: `<p>Hello from {{ attr "city" "our shop" }}! <a href="https://shop.example/sale">Sale</a></p>` +
			`<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", c.Links())

	r, err := c.Render(templates.Data{Contact: templates.Contact{Name: "Sara", Attributes: map[string]any{"city": "Tehran"}}}, exampleTracker{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Subject)
	fmt.Println(r.HTML)
	fmt.Println(r.Text)
	// Output:
	// [{Idx:0 URL:https://shop.example/sale Name:Sale Personalised:false}]
	// Hi Sara
	// <p>Hello from Tehran! <a href="https://t.example/c/0">Sale</a></p><p><a href="https://t.example/u">Unsubscribe</a></p><a href="https://t.example/h" style="display:none" aria-hidden="true" tabindex="-1"></a><img src="https://t.example/o" width="1" height="1" alt="" style="display:none">
	// Hello from Tehran! Sale (https://t.example/c/0)
	//
	// Unsubscribe (https://t.example/u)
}

func ExampleCompile_error() {
	_, err := templates.Compile(templates.Template{Subject: "Hi", HTML: "<p>\n  {{ .Contact.Nmae }}</p>"})
	var e *errs.Error
	if errors.As(err, &e) {
		fmt.Printf("%s %s line %d column %d: %s\n", e.Code, e.Field, e.Line, e.Column, e.Message)
	}
	// Output:
	// invalid html line 2 column 14: <.Contact.Nmae>: can't evaluate field Nmae in type Contact
}
