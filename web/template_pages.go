package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
)

func (u *UI) templateRoutes(g *echo.Group) {
	g.GET("/templates", u.templateList)
	g.GET("/templates/new", u.templateNew)
	g.POST("/templates", u.templateCreate)
	g.GET("/templates/:id", u.templateEdit)
	g.POST("/templates/:id", u.templateUpdate)
}

type templateForm struct {
	templates.Template
	Err      formErr
	Contacts []contacts.Contact // to preview against
	// Gallery is the starter templates a new template can begin from;
	// FromGallery is set when this one did.
	Gallery     []templates.GalleryItem
	FromGallery bool
	// AttributeKeys are the contact attributes seen in the data, for the
	// personalisation menu.
	AttributeKeys []string
	// MayMarkTransactional: the user is an admin, who alone may change
	// the transactional mark (templates.ErrTransactionalAdmin).
	MayMarkTransactional bool
}

// DesignJSON is the visual editor's document as the hidden field holds it.
func (f templateForm) DesignJSON() string { return string(f.Design) }

// RTL reports whether the template reads right to left.
func (f templateForm) RTL() bool {
	return strings.Contains(f.HTML, `dir="rtl"`) || strings.Contains(f.HTML, "direction:rtl")
}

func (u *UI) templateList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	archived := showArchived(c)
	list, err := templates.ListPage(c.Request().Context(), u.Pool, after, 100, archived)
	if err != nil {
		return err
	}
	total, err := templates.ListTotal(c.Request().Context(), u.Pool, archived)
	if err != nil {
		return err
	}
	next := ""
	if len(list) == 100 {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "templates", pageData{Nav: "templates", Data: map[string]any{"Templates": list, "Next": next, "Total": total, "Archived": archived}})
}

// showTemplate renders the editor with a few contacts to preview against.
func (u *UI) showTemplate(c echo.Context, status int, f templateForm) error {
	cs, err := contacts.List(c.Request().Context(), u.Pool, contacts.ListQuery{Limit: 50})
	if err != nil {
		return err
	}
	f.Contacts = cs
	if f.AttributeKeys, err = contacts.AttributeKeys(c.Request().Context(), u.Pool, 1000); err != nil {
		return err
	}
	f.Gallery = templates.Gallery()
	f.MayMarkTransactional = mayMarkTransactional(c)
	title := f.Name
	if f.ID == 0 {
		title = u.t(c, "template.new")
	}
	return u.render(c, status, "template", pageData{Title: title, Nav: "templates", Data: f})
}

// templateNew shows an empty template, or with ?gallery=KEY&lang=LANG a
// starter template from the gallery (unsaved until Save).
func (u *UI) templateNew(c echo.Context) error {
	if key := c.QueryParam("gallery"); key != "" {
		t, err := templates.FromGallery(key, c.QueryParam("lang"), u.BaseURL+EmailAssetsPath)
		if err != nil {
			return u.pageErr(c, err)
		}
		return u.showTemplate(c, http.StatusOK, templateForm{Template: t, FromGallery: true})
	}
	return u.showTemplate(c, http.StatusOK, templateForm{Template: templates.Template{
		Subject: "Hello {{ .Contact.Name }}",
		HTML: "<p>Hello {{ .Contact.Name }},</p>\n<p><a href=\"https://example.com/\">Visit us</a></p>\n" +
			"<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a> · <a href=\"{{ .PreferencesURL }}\">Manage preferences</a></p>",
	}})
}

func (u *UI) templateEdit(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	t, err := templates.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.showTemplate(c, http.StatusOK, templateForm{Template: t})
}

func (u *UI) templateCreate(c echo.Context) error { return u.templateSave(c, 0) }

func (u *UI) templateUpdate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.templateSave(c, id)
}

func (u *UI) templateSave(c echo.Context, id int64) error {
	t := templates.Template{ID: id, Name: c.FormValue("name"), Subject: c.FormValue("subject"), HTML: c.FormValue("html"), Text: c.FormValue("text"),
		Transactional: c.FormValue("transactional") != ""}
	if !mayMarkTransactional(c) {
		// The checkbox is disabled for them: the mark stays as stored.
		t.Transactional = false
		if id != 0 {
			old, err := templates.Get(c.Request().Context(), u.Pool, id)
			if err != nil {
				return u.pageErr(c, err)
			}
			t.Transactional = old.Transactional
		}
	}
	if d := strings.TrimSpace(c.FormValue("design")); d != "" && d != "null" {
		t.Design = json.RawMessage(d)
	}
	var saved templates.Template
	var err error
	if id == 0 {
		saved, err = templates.Create(c.Request().Context(), u.Pool, t)
	} else {
		saved, err = templates.Update(c.Request().Context(), u.Pool, t)
	}
	if fe, ok := asFormErr(err); ok {
		switch {
		case fe.Field == "html" || fe.Field == "subject" || fe.Field == "text":
			fe.Message = templateWords(u.tr(c), fe.Message, fe.Line > 0)
		case fe.Field == "design" && strings.HasPrefix(fe.Message, templates.UnsafeRawHTMLPrefix):
			fe.Message = u.t(c, "err.tpl.raw_unsafe", strings.TrimPrefix(fe.Message, templates.UnsafeRawHTMLPrefix))
		}
		return u.showTemplate(c, http.StatusUnprocessableEntity, templateForm{Template: t, Err: fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/templates/"+strconv.FormatInt(saved.ID, 10))
}

// mayMarkTransactional reports whether the signed-in user may change a
// template's transactional mark: admins only.
func mayMarkTransactional(c echo.Context) bool {
	id, ok := auth.FromContext(c)
	return ok && id.Role == auth.RoleAdmin
}
