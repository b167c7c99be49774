package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/reports"
	"github.com/peykar/peykar/internal/auth"
)

// pageData is what every page template receives.
type pageData struct {
	Title string
	Nav   string // the nav entry to highlight
	User  auth.Identity
	CSRF  string
	Error string // a message shown above the page content
	Data  any
}

// parsePages parses each templates/*.html page with the layout, its
// formatting funcs writing in lc (language and time zone).
func parsePages(msg catalogue, lc locale) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"t": func(id string, args ...any) string { return msg.TL(lc, id, args...) },
		// tc is t for a message that quotes `code`: the code is shown
		// isolated from the bidi algorithm (see withCode).
		"tc": func(id string, args ...any) template.HTML { return withCode(msg.TL(lc, id, args...)) },
		// subject shows template text with its {{ }} actions isolated.
		"subject": isolateActions,
		// can reports whether the user's role may make a request (hides
		// buttons the server would refuse anyway).
		"can": func(u auth.Identity, method, path string) bool { return auth.Allowed(u.Role, method, path) },
		// The formatting funcs: the one place a page writes a date, a
		// number, a share or an amount (see locale).
		"date":    lc.Date,
		"day":     lc.Day,
		"isoDay":  lc.IsoDay,
		"clock":   lc.Clock,
		"num":     lc.Num,
		"pct":     lc.Pct,
		"fixed":   lc.Fixed,
		"digits":  lc.digits,
		"zone":    func() string { return lc.loc.String() },
		"chart":   func(pts []campaigns.TimelinePoint) template.HTML { return timelineChart(msg, lc, pts) },
		"amounts": lc.Amounts,
		"money":   lc.Money,
		// otherRevenue is the revenue in other currencies than the
		// reporting one ("" when none): shown apart, never added.
		"otherRevenue":  func(m campaigns.Metrics) string { return lc.Amounts(reports.OtherAmounts(m)) },
		"scheduleValue": lc.ScheduleValue,
		"persian":       lc.persian,
		"scheduleHint":  func() string { return lc.digits(lc.ScheduleLayout()) },
		// termValue shows a goal term's number as its metric is shown.
		"termValue": lc.TermValue,
		// goalTerm writes a goal term with its metric's label (goal_term.go).
		"goalTerm": func(term campaigns.GoalTerm) template.HTML { return goalTerm(msg, lc, term) },
		// dateValue and dateHint are a date field's value and format
		// (date_field.go): Jalali in Persian.
		"dateValue": lc.DateValue,
		"dateHint":  func() string { return lc.digits(lc.DateLayout()) },
		// editorWords are the visual editor's block names (editor_words.go).
		"editorWords":  func() map[string]map[string]string { return editorWords(msg) },
		"reasonSample": func() int { return campaigns.ReasonSample },
		"join":         strings.Join,
		"inc":          func(i int) int { return i + 1 },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"throttle": func(f float64) string {
			if f == 0 {
				return ""
			}
			return strconv.FormatFloat(f, 'f', -1, 64)
		},
		"utm": func(s campaigns.Settings, field string) string {
			if s.UTM == nil {
				return ""
			}
			return map[string]string{"source": s.UTM.Source, "medium": s.UTM.Medium, "campaign": s.UTM.Campaign}[field]
		},
		"capMax": func(s campaigns.Settings) string {
			if s.FrequencyCap == nil {
				return ""
			}
			return strconv.Itoa(s.FrequencyCap.Max)
		},
		"capPer": func(s campaigns.Settings) string {
			if s.FrequencyCap == nil {
				return ""
			}
			return s.FrequencyCap.Per
		},
		"actionValue": showAttributeValue,
		// holdoutPercent and pp show settings.holdout and a difference of
		// rates in percent (holdout_view.go).
		"holdoutPercent": holdoutPercent,
		"pp":             func(f float64) string { return lc.Fixed(100*f, 1, false) },
		"webhookURL": func(s campaigns.Settings) string {
			if s.Webhook == nil {
				return ""
			}
			return s.Webhook.URL
		},
		// ferr is the error message for the form field name, or "".
		"ferr": func(e formErr, name string) string {
			if e.Field == name || strings.HasPrefix(e.Field, name+"[") {
				return e.Message
			}
			return ""
		},
		// dict builds a map for passing several values to a sub-template.
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(assets, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes page with data inside the layout (or only the named
// "content" block for htmx requests that ask for a fragment).
func (u *UI) render(c echo.Context, status int, page string, d pageData) error {
	pages, err := u.pages(c)
	if err != nil {
		return err
	}
	t, ok := pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	if id, ok := auth.FromContext(c); ok {
		d.User = id
	}
	d.CSRF = auth.CSRFToken(c)
	if d.Title == "" {
		d.Title = u.t(c, page+".title")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fragment renders one named template of page (an htmx partial) without
// the layout.
func (u *UI) fragment(c echo.Context, status int, page, name string, data any) error {
	pages, err := u.pages(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// redirect answers a form post: a 303 to to (htmx follows it as well).
func redirect(c echo.Context, to string) error { return c.Redirect(http.StatusSeeOther, to) }

// templateEscape escapes text for HTML.
func templateEscape(s string) string { return template.HTMLEscapeString(s) }
