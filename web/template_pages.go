package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
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
}

func (u *UI) templateList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	list, err := templates.List(c.Request().Context(), u.Pool, after, 100)
	if err != nil {
		return err
	}
	next := ""
	if len(list) == 100 {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "templates", pageData{Nav: "templates", Data: map[string]any{"Templates": list, "Next": next}})
}

// showTemplate renders the editor with a few contacts to preview against.
func (u *UI) showTemplate(c echo.Context, status int, f templateForm) error {
	cs, err := contacts.List(c.Request().Context(), u.Pool, contacts.ListQuery{Limit: 50})
	if err != nil {
		return err
	}
	f.Contacts = cs
	title := f.Name
	if f.ID == 0 {
		title = u.t(c, "template.new")
	}
	return u.render(c, status, "template", pageData{Title: title, Nav: "templates", Data: f})
}

func (u *UI) templateNew(c echo.Context) error {
	return u.showTemplate(c, http.StatusOK, templateForm{Template: templates.Template{
		Subject: "Hello {{ .Contact.Name }}",
		HTML:    "<p>Hello {{ .Contact.Name }},</p>\n<p><a href=\"https://example.com/\">Visit us</a></p>",
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
	t := templates.Template{ID: id, Name: c.FormValue("name"), Subject: c.FormValue("subject"), HTML: c.FormValue("html"), Text: c.FormValue("text")}
	var saved templates.Template
	var err error
	if id == 0 {
		saved, err = templates.Create(c.Request().Context(), u.Pool, t)
	} else {
		saved, err = templates.Update(c.Request().Context(), u.Pool, t)
	}
	if fe, ok := asFormErr(err); ok {
		return u.showTemplate(c, http.StatusUnprocessableEntity, templateForm{Template: t, Err: fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/templates/"+strconv.FormatInt(saved.ID, 10))
}
