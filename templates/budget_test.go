package templates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/errs"
)

// requireBudgetError asserts err is an Invalid *errs.Error about field,
// caused by a render budget, whose message contains msg.
func requireBudgetError(t *testing.T, err error, field string, line int, msg string) {
	t.Helper()
	require.Error(t, err)
	var e *errs.Error
	require.True(t, errors.As(err, &e), "want *errs.Error, got %T: %v", err, err)
	require.Equal(t, errs.Invalid, e.Code, e.Error())
	require.Equal(t, field, e.Field, e.Error())
	require.Equal(t, line, e.Line, e.Error())
	require.ErrorIs(t, err, ErrBudget)
	require.Contains(t, e.Message, msg)
	require.NotContains(t, e.Message, "peykar_")
}

// taggedContactID is the contact of the API fixture with many tags.
const taggedContactID = 3

// taggedContact has n tags.
func taggedContact(n int) Contact {
	c := Contact{ID: taggedContactID, Email: "tagged@example.com", Name: "Tagged", Attributes: map[string]any{}}
	for i := range n {
		c.Tags = append(c.Tags, fmt.Sprintf("t%d", i))
	}
	return c
}

// nestedTags ranges over the contact's tags three levels deep: n tags make
// n + n² + n³ iterations.
const nestedTags = "<p>Hi</p>\n<p>{{ range .Contact.Tags }}{{ range $.Contact.Tags }}{{ range $.Contact.Tags }}x{{ end }}{{ end }}{{ end }}</p>"

// Templates that pass a budget for the sample contact, whatever they loop
// over or however they grow strings, are refused on save, saying where.
func TestBudgetRefusesOnSave(t *testing.T) {
	t.Parallel()
	x10 := strings.Repeat(" $a", 10)
	cases := []struct {
		name  string
		tmpl  Template
		field string
		line  int
		msg   string
	}{
		{"range over a variable", Template{HTML: "<p>\n{{ $n := 100000000000 }}{{ range $n }}x{{ end }}</p>"},
			"html", 2, `template "t" html: more than 10000 loop iterations, all loops summed (line 2)`},
		{"nested ranges multiply", Template{HTML: "{{ range 1000 }}{{ range 1000 }}{{ range 100 }}x{{ end }}{{ end }}{{ end }}"},
			"html", 1, "more than 10000 loop iterations"},
		{"range over a function's result", Template{HTML: `{{ range len (printf "%060000d" 0) }}{{ end }}`},
			"html", 1, "more than 10000 loop iterations"},
		{"heavy loop bodies", Template{HTML: "{{ range 1000 }}{{ range 9 }}" + strings.Repeat("{{ if 1 }}{{ end }}", 6) + "{{ end }}{{ end }}"},
			"html", 1, "more than 200000 template steps"},
		{"helpers making too much in all", Template{HTML: `{{ range 1000 }}{{ $x := printf "%060000d" 1 }}{{ end }}`},
			"html", 1, "helpers make more than 4194304 bytes"},
		{"printf growing a string", Template{HTML: `{{ $a := printf "%01000d" 0 }}` + strings.Repeat(`{{ $a = printf "%s%s%s%s%s%s%s%s%s%s"`+x10+` }}`, 3)},
			"html", 1, "printf: a value longer than 65536 bytes"},
		{"printf width", Template{HTML: "<p>\n\n{{ printf \"%01000000d\" 1 }}</p>"},
			"html", 3, "printf: a value longer than 65536 bytes"},
		{"printf repeating an argument", Template{HTML: `{{ $a := printf "%010000d" 0 }}{{ printf "%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s" $a }}`},
			"html", 1, "printf: a value longer than 65536 bytes"},
		{"escapers growing a string", Template{HTML: `{{ $s := "` + strings.Repeat(`\\`, 10) + `" }}` + strings.Repeat(`{{ $s = js $s }}`, 15)},
			"html", 1, "js: a value longer than 65536 bytes"},
		{"html output", Template{HTML: "{{ range 1000 }}" + strings.Repeat("x", 3000) + "{{ end }}"},
			"html", 0, "html: renders more than 2097152 bytes"},
		{"subject output", Template{Subject: "{{ range 1000 }}Hello{{ end }}"},
			"subject", 0, "subject: renders more than 4096 bytes"},
		{"text part", Template{Text: "{{ range 1000 }}{{ range 10 }}x{{ end }}{{ end }}"},
			"text", 1, `template "t" text: more than 10000 loop iterations`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.tmpl.Name = "t"
			if tc.tmpl.Subject == "" {
				tc.tmpl.Subject = "Hello"
			}
			if tc.tmpl.HTML == "" {
				tc.tmpl.HTML = "<p>x</p>"
			}
			_, err := Compile(tc.tmpl)
			requireBudgetError(t, err, tc.field, tc.line, tc.msg)
		})
	}
}

// Sub-templates, through which a template could call itself, are refused
// in every part.
func TestBudgetRefusesTemplateCalls(t *testing.T) {
	t.Parallel()
	for _, tmpl := range []Template{
		{Subject: "s", HTML: `<p>{{ template "html" . }}</p>`},
		{Subject: `{{ template "subject" . }}`, HTML: "<p>x</p>"},
		{Subject: "s", HTML: "<p>x</p>", Text: `{{ template "text" . }}`},
		{Subject: "s", HTML: `{{ block "b" . }}{{ template "b" . }}{{ end }}`},
	} {
		_, err := Compile(tmpl)
		require.True(t, errs.Is(err, errs.Invalid), "%+v: %v", tmpl, err)
		require.ErrorContains(t, err, "sub-templates")
	}
}

// Budgets hold for what only a recipient's data reveals, and the error
// points at the part and line.
func TestBudgetEnforcedWhileRendering(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{Name: "welcome", HTML: nestedTags})
	r := render(t, c, Data{Contact: taggedContact(5)}, nil)
	require.Equal(t, "<p>Hi</p>\n<p>"+strings.Repeat("x", 125)+"</p>", r.HTML, "5 tags: 155 iterations")
	_, err := c.Render(Data{Contact: taggedContact(25)}, nil)
	requireBudgetError(t, err, "html", 2, `template "welcome" html: more than 10000 loop iterations, all loops summed (line 2)`)

	c = mustCompile(t, Template{Name: "welcome", HTML: "<p>x</p>", Text: "x\n" + nestedTags})
	_, err = c.Render(Data{Contact: taggedContact(25)}, nil)
	requireBudgetError(t, err, "text", 3, `template "welcome" text: more than 10000 loop iterations`)

	c = mustCompile(t, Template{HTML: `{{ range len (attr "s" "") }}{{ end }}`})
	_, err = c.Render(Data{Contact: Contact{Attributes: map[string]any{"s": strings.Repeat("x", 1e6)}}}, nil)
	requireBudgetError(t, err, "html", 1, "more than 10000 loop iterations")

	long := Contact{Name: strings.Repeat("n", 30_000)}
	long.Tags = taggedContact(100).Tags
	c = mustCompile(t, Template{Subject: "Hi {{ .Contact.Name }}", HTML: "<p>x</p>"})
	_, err = c.Render(Data{Contact: long}, nil)
	requireBudgetError(t, err, "subject", 0, "subject: renders more than 4096 bytes")
	c = mustCompile(t, Template{HTML: "{{ range .Contact.Tags }}{{ $.Contact.Name }}{{ end }}"})
	_, err = c.Render(Data{Contact: long}, nil)
	requireBudgetError(t, err, "html", 0, "html: renders more than 2097152 bytes")
	c = mustCompile(t, Template{HTML: `<a href="https://x.example/{{ .Contact.Name }}">x</a>`})
	_, err = c.Render(Data{Contact: long}, fakeTracker{})
	requireBudgetError(t, err, "html", 1, "a personalised link renders more than 8192 bytes")
}

// A method's result cannot feed the method again without bound: every
// value passed to a method is checked.
func TestBudgetGuardsMethodArguments(t *testing.T) {
	t.Parallel()
	src := `{{ $a := .Contact.CreatedAt.Format "` + strings.Repeat("1", 40_000) + `" }}{{ $b := $a | $.Contact.CreatedAt.Format }}{{ len $b }}`
	c := mustCompile(t, Template{HTML: src}) // January: "1" stays "1"
	_, err := c.Render(Data{Contact: Contact{CreatedAt: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)}}, nil)
	requireBudgetError(t, err, "html", 1, "a method argument: a value longer than 65536 bytes")
}

// Ordinary templates render as before: method calls, helpers, escaping,
// loops up to the budget, break and else.
func TestBudgetKeepsOrdinaryTemplatesWorking(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{
		Subject: `{{ printf "%s, %d tags" .Contact.Name (len .Contact.Tags) }}`,
		HTML: `<p>{{ .Contact.CreatedAt.Format "2 Jan" }} {{ "2006" | .Contact.CreatedAt.Format }} {{ .Contact.Name | html }}` +
			` <a href="https://x.example/?q={{ .Contact.Name | urlquery }}">q</a> {{ print 1 2 }} {{ upper "ok" }}</p>` +
			`{{ range 13 }}{{ range 768 }}.{{ end }}{{ end }}` +
			`{{ range $i, $t := .Contact.Tags }}{{ if eq $i 2 }}{{ break }}{{ end }}[{{ $t }}]{{ else }}none{{ end }}`,
	})
	d := Data{Contact: taggedContact(5)}
	d.Contact.Name = "<Sara & co>"
	d.Contact.CreatedAt = time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC)
	r := render(t, c, d, nil)
	require.Equal(t, "<Sara & co>, 5 tags", r.Subject)
	require.Equal(t, `<p>21 Mar 2025 &lt;Sara &amp; co&gt; <a href="https://x.example/?q=%3CSara&#43;%26&#43;co%3E">q</a> 1 2 OK</p>`+
		strings.Repeat(".", 13*768)+"[t0][t1]", r.HTML, "13 + 13×768 + 3 = 10,000 iterations are within the budget")
	d.Contact.Tags = nil
	require.True(t, strings.HasSuffix(render(t, c, d, nil).HTML, "none"))
}

// cancellingTracker cancels the render's context the first time a link is
// tracked, and counts the links it tracks.
type cancellingTracker struct {
	fakeTracker
	cancel context.CancelFunc
	clicks int
}

func (tr *cancellingTracker) ClickURL(idx int, target string) string {
	tr.clicks++
	tr.cancel()
	return tr.fakeTracker.ClickURL(idx, target)
}

// Rendering stops once its context is done: before it starts, or from
// inside (the first tracked link cancels it, and no second link renders).
func TestRenderStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, Template{Name: "welcome", HTML: `{{ range .Contact.Tags }}<a href="https://x.example/{{ . }}">x</a>{{ end }}`})
	d := Data{Contact: taggedContact(50)}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.RenderContext(ctx, d, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errs.Is(err, errs.Invalid), "the template is not at fault")
	require.ErrorContains(t, err, `template "welcome" subject: rendering stopped`)

	ctx, cancel = context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	_, err = c.RenderContext(ctx, d, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	tr := &cancellingTracker{cancel: cancel}
	_, err = c.RenderContext(ctx, d, tr)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, `template "welcome" html: rendering stopped`)
	require.Equal(t, 1, tr.clicks, "rendering stopped at the first link")

	// Without cancellation the same render completes.
	tr = &cancellingTracker{cancel: func() {}}
	_, err = c.RenderContext(context.Background(), d, tr)
	require.NoError(t, err)
	require.Equal(t, 100, tr.clicks, "50 links in the HTML, 50 in the text")
}

// The bounded helpers take the render state first, unseen: their argument
// count errors speak of what the author wrote.
func TestBoundHelpersReportTheAuthorsArgumentCount(t *testing.T) {
	t.Parallel()
	for src, msg := range map[string]string{
		`<p>{{ printf }}</p>`:        "wrong number of args for printf: want at least 1 got 0",
		`<p>{{ upper "a" "b" }}</p>`: "wrong number of args for upper: want 1 got 2",
		`<p>{{ attr }}</p>`:          "wrong number of args for attr: want at least 1 got 0",
	} {
		_, err := Compile(Template{Subject: "s", HTML: src})
		requireFieldError(t, err, "html", 1, 7, msg)
	}
}
