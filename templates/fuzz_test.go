package templates

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzCompile feeds arbitrary HTML sources through Compile and, when they
// compile, Render: nothing may panic, and a compiled template renders or
// returns an error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`<p>Hi {{ .Contact.Name }}</p>`,
		`<a href="https://x.example/{{ .Contact.ID }}" title='t'>x</a><a href=y>`,
		`<a href="{{ attr "u" "https://d.example" }}">{{ if .Contact.Attributes.vip }}v{{ end }}</a>`,
		`<html><body><ul><li><a href="mailto:a@b">a</a></body></html>`,
		`{{ if .Contact.Name }}<a href="{{ else }}<b>{{ end }}`,
		`<a href="https://x.example/?q={{ "\">" }}">&amp;&#123;&#123;</a>`,
		`<p>{{/* c */}}{{ printf "%s" unsubscribe_url }}</p><script>var x = "{{ .Contact.Email }}";</script>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stop := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("stuck on %q", src)) })
		defer stop.Stop()
		c, err := Compile(Template{Subject: "s", HTML: src})
		if err != nil {
			return
		}
		_ = c.Links()
		d := Data{Contact: Contact{ID: 1, Name: "<n>", Attributes: map[string]any{"u": "https://u.example", "vip": true}}}
		_, _ = c.Render(d, fakeTracker{})
		_, _ = c.Render(d, nil)
	})
}

// Bounds FuzzRender holds every template to, whatever it is: what the
// budgets allow, with room for the runtime's own bookkeeping. Compile
// renders the sample contact several times.
const (
	maxRenderAlloc   = 128 << 20 // bytes one render allocates
	maxRenderMallocs = 2_000_000 // allocations one render makes
	maxCompileAlloc  = 512 << 20
)

// FuzzRender drives the renderer with resource-hungry templates (loops over
// numbers, variables, data and function results, nested loops, growing
// helpers, method chains, personalised links) against a contact whose data
// is as large as the input says. Whatever the source, Compile and a render
// end within their budgets: output within the caps, loop iterations, steps
// and helper bytes within theirs, memory and allocations bounded, and no
// panic.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{{ $n := 100000000000 }}{{ range $n }}x{{ end }}`,
		`{{ range 1000 }}{{ range 1000 }}{{ range 100 }}x{{ end }}{{ end }}{{ end }}`,
		`{{ range .Contact.Tags }}{{ range $.Contact.Tags }}{{ range $.Contact.Tags }}<a href="https://x.example/{{ . }}">{{ . }}</a>{{ end }}{{ end }}{{ end }}`,
		`{{ range 1000 }}{{ range 9 }}{{ if 1 }}{{ $x := 1 }}{{ end }}{{ if 1 }}{{ end }}{{ if 1 }}{{ end }}{{ end }}{{ end }}`,
		`{{ range .Contact.Tags }}{{ range 99 }}{{ if 1 }}{{ $x := 1 }}{{ end }}{{ if 1 }}{{ end }}{{ if 1 }}{{ end }}{{ if 1 }}{{ end }}{{ end }}{{ end }}`,
		`{{ range (attr "list" "") }}{{ $x := printf "%060000d" 1 }}{{ end }}`,
		`{{ $a := printf "%01000d" 0 }}{{ $a = printf "%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a }}{{ $a = printf "%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a }}{{ $a }}`,
		`{{ $s := attr "s" "" }}{{ $s = js $s }}{{ $s = js $s }}{{ $s = js $s }}{{ $s = js (js (js (js (js (js (js (js $s))))))) }}{{ len $s }}`,
		`{{ $a := .Contact.CreatedAt.Format "111111111111111111111111111111" }}{{ $a = $.Contact.CreatedAt.Format $a }}{{ $a = $a | $.Contact.CreatedAt.Format }}{{ $a }}`,
		`{{ range .Contact.Tags }}{{ $.Contact.Name }}{{ $.Contact.Name | html }}{{ attr "s" "" }}{{ end }}`,
		`{{ range $k, $v := .Contact.Attributes }}{{ $k }}={{ $v }} {{ range $.Contact.Attributes.list }}{{ . }}{{ break }}{{ end }}{{ end }}`,
		`{{ range len (attr "s" "") }}{{ urlquery (attr "s" "") }}{{ end }}`,
		`{{ range (attr "list" "") }}{{ printf "%[1]v%[1]v%[1]v" $.Contact.Attributes }}<a href="https://x.example/?{{ .name }}">x</a>{{ end }}`,
		`{{ range 100 }}{{ range 99 }}{{ end }}{{ end }}{{ .Contact.Attributes.a.b }}{{ .Contact.Attributes.c.d }}{{ .Contact.Attributes.e.f }}{{ .Contact.Attributes.g.h }}`,
	} {
		f.Add(s, uint16(100))
	}
	f.Fuzz(func(t *testing.T, src string, size uint16) {
		stop := time.AfterFunc(time.Minute, func() { panic(fmt.Sprintf("stuck on %q", src)) })
		defer stop.Stop()
		d := Data{Contact: fuzzContact(int(size))}
		for _, tmpl := range []Template{{Subject: "s", HTML: src}, {Subject: "s", HTML: "<p>x</p>", Text: src}} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c, err := Compile(tmpl)
			runtime.ReadMemStats(&after)
			require.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, uint64(maxCompileAlloc), "bytes allocated compiling")
			if err != nil {
				continue
			}
			runtime.ReadMemStats(&before)
			r, spent, err := c.render(context.Background(), d, fakeTracker{})
			runtime.ReadMemStats(&after)
			if err != nil {
				require.NotContains(t, err.Error(), "rendering failed", "a render never panics")
			} else {
				require.LessOrEqual(t, len(r.Subject), MaxSubjectOutput)
				require.LessOrEqual(t, len(r.HTML), MaxOutput)
				require.LessOrEqual(t, len(r.Text), MaxOutput)
			}
			require.LessOrEqual(t, spent.iterations, MaxRangeIterations)
			require.LessOrEqual(t, spent.steps, MaxLoopSteps)
			require.LessOrEqual(t, spent.made, MaxHelperBytes)
			require.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, uint64(maxRenderAlloc), "bytes allocated rendering")
			require.LessOrEqual(t, after.Mallocs-before.Mallocs, uint64(maxRenderMallocs), "allocations rendering")
		}
	})
}

// fuzzContact is a recipient whose tags, name and attributes grow with
// size.
func fuzzContact(size int) Contact {
	size %= 4096
	c := Contact{ID: 1, Email: "sara@example.com", Name: strings.Repeat("<n&>", size),
		CreatedAt: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC),
		Attributes: map[string]any{"u": "https://u.example", "vip": true, "n": float64(size),
			"s": strings.Repeat(`%\<`, size)}}
	list := make([]any, 0, size)
	for i := range size {
		list = append(list, map[string]any{"i": float64(i), "name": "item"})
	}
	c.Attributes["list"] = list
	for i := range min(size, 100) {
		c.Tags = append(c.Tags, fmt.Sprintf("t%d", i))
	}
	return c
}
