package templates

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompileValidationErrorsHaveLineAndColumn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		tmpl      Template
		field     string
		line, col int
		msg       string
	}{
		{"unknown field in html", Template{Subject: "Hi", HTML: "<p>\n  Hi {{ .Contact.Nmae }}</p>"},
			"html", 2, 17, "can't evaluate field Nmae"},
		{"unknown field in subject", Template{Subject: "Hi {{ .Contact.Nmae }}", HTML: "<p>x</p>"},
			"subject", 1, 15, "can't evaluate field Nmae"},
		{"unknown field in text", Template{Subject: "Hi", HTML: "<p>x</p>", Text: "a\nb\n{{ .Campaign.Title }}"},
			"text", 3, 13, "can't evaluate field Title"},
		{"unknown field in an untaken branch", Template{Subject: "Hi", HTML: "<p>{{ if .Contact.Name }}x{{ else }}\n {{ $.Campaign.Nmae }}{{ end }}</p>"},
			"html", 2, 15, "can't evaluate field Nmae in type Campaign"},
		{"unknown field under a method-less type", Template{Subject: "Hi", HTML: "<p>{{ .Contact.CreatedAt.Year }} {{ .Contact.ID.X }}</p>"},
			"html", 1, 48, "can't evaluate field X in type int64"},
		{"huge range", Template{Subject: "Hi", HTML: "<p>{{ range 100000000 }}x{{ end }}</p>"},
			"html", 1, 13, "range over more than 1000"},
		{"unknown function", Template{Subject: "Hi", HTML: "<p>x</p>\n<p>{{ shout .Contact.Name }}</p>"},
			"html", 2, 7, `function "shout" not defined`},
		{"unclosed action", Template{Subject: "Hi", HTML: "<p>{{ .Contact.Name </p>"},
			"html", 1, 21, `unexpected "<"`},
		{"wrong argument count", Template{Subject: "Hi", HTML: "<p>{{ attr }}</p>"},
			"html", 1, 7, "wrong number of args for attr"},
		{"columns count characters", Template{Subject: "Hi", HTML: "<p>سلام {{ .Contact.Nmae }}</p>"},
			"html", 1, 20, "Nmae"},
		{"sub-templates", Template{Subject: "Hi", HTML: `{{ define "x" }}a{{ end }}<p>{{ template "x" }}</p>`},
			"html", 0, 0, "sub-templates"},
		{"multi-line subject", Template{Subject: "Hi\nthere", HTML: "<p>x</p>"},
			"subject", 1, 3, "single line"},
		{"missing subject", Template{HTML: "<p>x</p>"}, "subject", 0, 0, "required"},
		{"missing html", Template{Subject: "x"}, "html", 0, 0, "required"},
		{"branches end in different html contexts", Template{Subject: "Hi", HTML: `<p>{{ if .Contact.Name }}<a href="{{ else }}<b>{{ end }}</p>`},
			"html", 1, 10, "different contexts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.tmpl)
			requireFieldError(t, err, tc.field, tc.line, tc.col, tc.msg)
		})
	}
}

func TestCompileAcceptsAttributesAndDataDependentCode(t *testing.T) {
	t.Parallel()
	// Attributes are free-form: reading one the sample contact lacks, or
	// comparing its value, must not fail on save.
	_, err := Compile(Template{Subject: "{{ attr \"city\" \"there\" }}",
		HTML: `<p>{{ .Contact.Attributes.city }} {{ if gt .Contact.Attributes.age 30.0 }}old{{ end }}
{{ number 2 .Contact.Attributes.balance }} {{ date "2006" .Contact.CreatedAt }}</p>`})
	require.NoError(t, err)
}
