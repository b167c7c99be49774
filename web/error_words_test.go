package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// compilerMessage is the message (and whether it has a position) the real
// compiler gives for a mistake, as the API returns it.
func goalMessage(t *testing.T, when string) (string, bool) {
	t.Helper()
	c := campaigns.Campaign{Name: "x", Channel: campaigns.ChannelEmail, Goals: []campaigns.Goal{{Name: "g", When: when}}}
	all := errs.All(campaigns.Validate(&c))
	require.Len(t, all, 1, when)
	return all[0].Message[len(`goal "g": `):], all[0].Line > 0
}

func segmentMessage(t *testing.T, rule string) (string, bool) {
	t.Helper()
	_, err := segments.CompileSegment(rule)
	all := errs.All(err)
	require.Len(t, all, 1, rule)
	return all[0].Message, all[0].Position > 0
}

func templateMessage(t *testing.T, html string) (string, bool) {
	t.Helper()
	_, err := templates.Compile(templates.Template{Name: "t", Subject: "s", HTML: html})
	all := errs.All(err)
	require.Len(t, all, 1, html)
	return all[0].Message, all[0].Line > 0
}

// TestExprWords: each common kind of expr mistake, as the compiler gives
// it today, is worded from the catalogue in English and Persian, with its
// details (names, kinds, counts) as parameters; "did you mean" finds the
// closest name of the environment; an unknown kind keeps the compiler's
// text after a translated "Expression error:".
func TestExprWords(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "fa"} {
		msg, err := loadCatalogue(lang)
		require.NoError(t, err)
		number, text := msg.T("exprhelp.kind_number"), msg.T("exprhelp.kind_text")
		for _, tc := range []struct {
			env, src string
			compile  func(*testing.T, string) (string, bool)
			want     string
		}{
			{"goal", "ctrr > 0.1", goalMessage, msg.T("err.expr.unknown_name_suggest", "ctrr", "ctr")},
			{"goal", "zzzzzz > 0.1", goalMessage, msg.T("err.expr.unknown_name", "zzzzzz")},
			{"segment", `contact.emial == "a"`, segmentMessage, msg.T("err.expr.unknown_name_suggest", "emial", "contact.email")},
			{"goal", `ctr > "x"`, goalMessage, msg.T("err.expr.mismatch", ">", number, text)},
			{"goal", "ctr", goalMessage, msg.T("err.expr.not_bool", number)},
			{"goal", "ctr >= ", goalMessage, msg.T("err.expr.unexpected_end")},
			{"goal", "ctr > 0.1 )", goalMessage, msg.T("err.expr.unexpected_token", ")")},
			{"goal", "len(1, 2) > 0", goalMessage, msg.T("err.expr.arg_count", "1", "2")},
			{"goal", "lower(1) == 2", goalMessage, msg.T("err.expr.arg_type", number, text, "lower")},
			{"segment", "has_tag()", segmentMessage, msg.T("err.expr.too_few_args", "has_tag")},
			{"segment", "days_since(contact.created_at, 1) > 3", segmentMessage, msg.T("err.expr.too_many_args", "days_since")},
			{"goal", `len(repeat(repeat("x", 99999), 1000000)) > 0`, goalMessage, msg.T("err.expr.budget_string", "repeat", "99999000000", "1000000")},
		} {
			m, placed := tc.compile(t, tc.src)
			got := exprWords(msg.T, tc.env, m, placed)
			require.Equal(t, tc.want, got, "%s: %s (%q)", lang, tc.src, m)
			require.NotContains(t, got, "!err.", "a message id is missing")
			if lang == "fa" {
				require.NotContains(t, got, m, "the compiler's English is not shown")
			}
		}
		require.Equal(t, msg.T("err.expr.other", "something new"), exprWords(msg.T, "goal", "something new", true))
		require.Equal(t, "is required", exprWords(msg.T, "goal", "is required", false), "a validation message without a position stays")
	}
	en, _ := loadCatalogue("en")
	fa, _ := loadCatalogue("fa")
	require.Equal(t, "Expression error: something new", exprWords(en.T, "goal", "something new", true))
	require.Equal(t, "خطای عبارت: something new", exprWords(fa.T, "goal", "something new", true))
}

// TestTemplateWords: the Go template parser's and executor's common
// mistakes are worded from the catalogue in both languages; others keep
// the original after a translated "Template error:".
func TestTemplateWords(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "fa"} {
		msg, err := loadCatalogue(lang)
		require.NoError(t, err)
		for _, tc := range []struct{ src, want string }{
			{"{{ .Contact.Name", msg.T("err.tpl.unclosed")},
			{"{{ foo }}", msg.T("err.tpl.no_function", "foo")},
			{"{{ .Contact.Nme }}", msg.T("err.tpl.missing_field", "Nme", "Contact")},
			{"{{ if }}", msg.T("err.tpl.missing_value", "if")},
			{"{{ .Contact.Name }}{{ end }}", msg.T("err.tpl.unexpected", "{{end}}")},
			{"{{ range .Contact.Tags }}", msg.T("err.tpl.unexpected_end")},
			{"{{ date 1 }}", msg.T("err.tpl.arg_count", "date", "2", "1")},
		} {
			m, placed := templateMessage(t, tc.src)
			require.True(t, placed, tc.src)
			got := templateWords(msg.T, m, placed)
			require.Equal(t, tc.want, got, "%s: %s (%q)", lang, tc.src, m)
			require.NotContains(t, got, "!err.")
			if lang == "fa" {
				require.NotContains(t, got, m)
			}
		}
		require.Equal(t, msg.T("err.tpl.other", "odd"), templateWords(msg.T, "odd", true))
	}
	fa, _ := loadCatalogue("fa")
	require.Equal(t, "خطای قالب: odd", templateWords(fa.T, "odd", true))
}
