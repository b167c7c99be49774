package web

import (
	"net/http"
	"reflect"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
)

// exprHelpPath is the page listing the names each expression may use;
// its sections are #segment, #rule and #goal.
const exprHelpPath = "/admin/help/expr"

// exprName is one name an expression may use, with its kind (text,
// number, time, list, map, yes/no, function).
type exprName struct {
	Name string
	Kind string
}

// exprEnv is one expression environment of the reference page.
type exprEnv struct {
	ID       string // segment, rule, goal: the section's anchor and message ids
	Names    []exprName
	Examples []string
}

func (u *UI) exprHelpRoutes(g *echo.Group) {
	g.GET("/help/expr", u.exprHelp)
}

func (u *UI) exprHelp(c echo.Context) error {
	envs := []exprEnv{
		{ID: "segment", Names: exprNames(segments.EnvType(), ""), Examples: []string{
			`contact.attributes.city == "Tehran"`,
			`has_tag("vip") && stats.opens > 0`,
			`days_since(stats.last_purchase_at) > 90`,
			`rfm.segment in ["champions", "loyal"]`,
			`events.count("cart_abandoned", "7d") > 0 && events.count("purchase", "7d") == 0`,
			`events.last("purchase").value > 100 && !opened("Nowruz sale")`,
		}},
		{ID: "rule", Names: exprNames(reflect.TypeFor[campaigns.RuleEnv](), ""), Examples: []string{
			`event.link.url contains "/pricing"`,
			`contact.attributes.plan != "pro"`,
			`delivery.step == "main" && event.value >= 50`,
		}},
		{ID: "goal", Names: exprNames(reflect.TypeFor[campaigns.Metrics](), ""), Examples: []string{
			`ctr >= 0.05`,
			`conversions >= 100 && unsubscribe_rate < 0.005`,
			`revenue_per_recipient >= 2`,
		}},
	}
	return u.render(c, http.StatusOK, "expr_help", pageData{Title: u.t(c, "exprhelp.title"), Nav: "campaigns", Data: envs})
}

var timeType = reflect.TypeFor[time.Time]()

// exprNames lists the names of an expression environment from its expr
// tags: nested structs as a.b, embedded ones promoted, sorted.
func exprNames(t reflect.Type, prefix string) []exprName {
	var out []exprName
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("expr")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" {
			out = append(out, exprNames(f.Type, prefix)...)
			continue
		}
		if tag == "" {
			continue
		}
		name := prefix + tag
		switch ft := f.Type; {
		case ft == timeType:
			out = append(out, exprName{name, "time"})
		case ft.Kind() == reflect.Struct:
			out = append(out, exprNames(ft, name+".")...)
		case ft.Kind() == reflect.Func:
			out = append(out, exprName{name + "(…)", "function"})
		default:
			out = append(out, exprName{name, kindOf(ft)})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func kindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	default:
		return "number"
	}
}
