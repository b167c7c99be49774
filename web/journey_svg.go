package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"unicode"
)

// journeyTmpl draws a laid-out journey map as inline SVG. html/template
// escapes every name and expression (a rule named "<script>" stays text);
// the SVG carries classes and presentation attributes only (the CSP allows
// no inline style). Each line is its own <text>, so an expression is laid
// out left to right inside a right-to-left map without bidi reordering.
var journeyTmpl = template.Must(template.New("journey").Funcs(template.FuncMap{
	"f": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"lineY": func(n *journeyNode, i int) string {
		return fmt.Sprintf("%.1f", n.Y+jPad+jLineH*float64(i+1)-4)
	},
	"cx":    func(n *journeyNode) string { return fmt.Sprintf("%.1f", n.X+n.W/2) },
	"add":   func(a, b int) int { return a + b },
	"short": func(s string) string { return shorten(s, jTextMax) },
	"dir":   textDir,
	"sub":   func(a, b float64) float64 { return a - b },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
}).Parse(`<svg class="journey" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{f .Map.W}} {{f .Map.H}}" width="{{f .Map.W}}" height="{{f .Map.H}}" role="group" aria-label="{{.Label}}" direction="{{if .Map.RTL}}rtl{{else}}ltr{{end}}">
<defs><marker id="journey-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="journey-arrowhead"/></marker></defs>
{{range .Map.Edges}}{{$e := .}}{{if .Href}}<a href="{{.Href}}" class="journey-link" id="jl-{{.ID}}">{{end}}<g class="journey-edge" data-edge="{{.ID}}" data-from="{{.From}}" data-to="{{.To}}"><path d="{{.Path}}" marker-end="url(#journey-arrow)"/>{{if .Href}}<path d="{{.Path}}" class="journey-hit"/>{{end}}{{if .Label}}<text x="{{f .LX}}" y="{{f .LY}}" text-anchor="middle" class="journey-edge-label">{{.Label}}</text>{{end}}{{with .Stats}}<text x="{{f $e.LX}}" y="{{f (sub $e.LY 13)}}" text-anchor="middle" class="journey-edge-label journey-stats">{{template "stats" (dict "Owner" $e.ID "Stats" . "Stat" $.Stat "Num" $.Num)}}</text>{{end}}</g>{{if .Href}}</a>{{end}}
{{end}}{{range .Map.Nodes}}{{if .Href}}<a href="{{.Href}}" class="journey-link" id="jl-{{.ID}}">{{end}}<g class="journey-node journey-{{.Kind}}{{if .Missing}} journey-missing{{end}}" data-node="{{.ID}}"><title>{{.Title}}{{range .Lines}} — {{.Text}}{{end}}</title>
<rect x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" rx="8"/>
<text x="{{cx .}}" y="{{lineY . 0}}" text-anchor="middle" class="journey-title" direction="{{if eq .Kind "step"}}ltr{{else}}{{dir .Title $.Map.RTL}}{{end}}" unicode-bidi="embed">{{short .Title}}</text>
{{$n := .}}{{range $i, $l := .Lines}}<text x="{{cx $n}}" y="{{lineY $n (add $i 1)}}" text-anchor="middle"{{if $l.Code}} class="journey-code" direction="ltr"{{else}} direction="{{dir $l.Text $.Map.RTL}}"{{end}} unicode-bidi="embed">{{short $l.Text}}</text>
{{end}}{{range $r, $row := .StatRows}}<text x="{{cx $n}}" y="{{lineY $n (add (len $n.Lines) (add $r 1))}}" text-anchor="middle" class="journey-stats">{{template "stats" (dict "Owner" $n.ID "Stats" $row "Stat" $.Stat "Num" $.Num)}}</text>
{{end}}</g>{{if .Href}}</a>{{end}}
{{end}}</svg>{{define "stats"}}{{$o := .Owner}}{{$l := .Stat}}{{$num := .Num}}{{range $i, $s := .Stats}}{{if $i}} · {{end}}<tspan class="journey-stat-label">{{index $l $s.Key}}</tspan> <tspan class="journey-stat" data-stat="{{$s.Key}}" id="j-{{$o}}-{{$s.Key}}"{{with $s.Path}} data-path="{{.}}"{{end}}>{{call $num $s.Value}}</tspan>{{end}}{{end}}`))

// textDir is the direction of s as dir="auto" would pick it: that of its
// first strong letter (Arabic script and Hebrew right to left), else the
// page's. A name like "pricing <click>" in a Persian map keeps its order.
func textDir(s string, rtl bool) string {
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana):
			return "rtl"
		case unicode.IsLetter(r):
			return "ltr"
		}
	}
	if rtl {
		return "rtl"
	}
	return "ltr"
}

// journeyStatKeys are the live numbers' keys, each with a journey.stat.*
// message.
var journeyStatKeys = []string{"audience", "entered", "sent", "waiting", "converted", "fired", "skipped", "failed"}

// journeySVG renders m with its labels in msg's language.
func journeySVG(msg catalogue, m journeyMap) (template.HTML, error) {
	stat := make(map[string]string, len(journeyStatKeys))
	for _, k := range journeyStatKeys {
		stat[k] = msg.T("journey.stat." + k)
	}
	var b bytes.Buffer
	err := journeyTmpl.Execute(&b, map[string]any{"Map": m, "Stat": stat, "Label": msg.T("journey.title"), "Num": func(v int64) string { return m.Locale.Num(v) }})
	if err != nil {
		return "", fmt.Errorf("journey map: %w", err)
	}
	return template.HTML(strings.TrimSpace(b.String())), nil //nolint:gosec // G203: rendered by html/template, which escaped every value
}
