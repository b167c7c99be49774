package factory

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/templates"
)

// TemplateOption sets a field of the template Template creates.
type TemplateOption func(*templates.Template)

// TemplateName sets the template's name (default: "t").
func TemplateName(name string) TemplateOption {
	return func(tp *templates.Template) { tp.Name = name }
}

// Subject sets the template's subject (default: "Hi").
func Subject(subject string) TemplateOption {
	return func(tp *templates.Template) { tp.Subject = subject }
}

// HTML sets the template's HTML body (default: "<p>Hi</p>").
func HTML(html string) TemplateOption {
	return func(tp *templates.Template) { tp.HTML = html }
}

// Text sets the template's plain-text body (default: empty, generated
// from the HTML).
func Text(text string) TemplateOption {
	return func(tp *templates.Template) { tp.Text = text }
}

// Template creates a template with templates.Create (so it must compile)
// and returns it.
func Template(t testing.TB, db templates.DBTX, opts ...TemplateOption) templates.Template {
	t.Helper()
	tp := templates.Template{Name: "t", Subject: "Hi", HTML: "<p>Hi</p>"}
	for _, o := range opts {
		o(&tp)
	}
	out, err := templates.Create(context.Background(), db, tp)
	require.NoError(t, err, "factory: create template %s", tp.Name)
	return out
}
