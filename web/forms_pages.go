package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/httpapi"
)

func (u *UI) formRoutes(g *echo.Group) {
	g.GET("/forms", u.formList)
	g.GET("/forms/new", u.formNew)
	g.POST("/forms", u.formCreate)
	g.GET("/forms/:id", u.formEdit)
	g.POST("/forms/:id", u.formSave)
	g.POST("/forms/:id/delete", u.formDelete)
	g.GET("/forms/:id/preview", u.formPreview)
}

// formEditPage is the create and edit page: the form as typed, the topics
// to offer, and (once saved) its URL, snippet and numbers.
type formEditPage struct {
	Form   forms.Form
	Attrs  string // the attribute fields, comma-separated as typed
	Topics []topics.Topic
	Err    formErr
	Saved  bool
}

// HasTopic reports whether the form offers topic id.
func (p formEditPage) HasTopic(id int64) bool {
	for _, t := range p.Form.TopicIDs {
		if t == id {
			return true
		}
	}
	return false
}

// HasField reports whether the form asks for field f.
func (p formEditPage) HasField(f string) bool {
	for _, x := range p.Form.Fields {
		if x == f {
			return true
		}
	}
	return false
}

func (u *UI) formList(c echo.Context) error {
	items, err := forms.List(c.Request().Context(), u.Pool, 0, forms.MaxList)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "forms", pageData{Title: u.t(c, "forms.title"), Nav: "forms", Data: items})
}

func (u *UI) showFormEdit(c echo.Context, status int, p formEditPage) error {
	ts, err := topics.List(c.Request().Context(), u.Pool, false, false)
	if err != nil {
		return err
	}
	p.Topics = ts
	if p.Attrs == "" {
		p.Attrs = strings.Join(p.Form.AttrFields(), ", ")
	}
	if p.Form.ID != 0 && u.Forms != nil {
		if err := u.Forms.Decorate(c.Request().Context(), &p.Form); err != nil {
			return err
		}
	}
	title := u.t(c, "forms.new")
	if p.Form.ID != 0 {
		title = p.Form.Name
	}
	return u.render(c, status, "form_edit", pageData{Title: title, Nav: "forms", Data: p})
}

func (u *UI) formNew(c echo.Context) error {
	return u.showFormEdit(c, http.StatusOK, formEditPage{Form: forms.Form{DoubleOptIn: true, Language: "en", Fields: []string{"email", "name"}}})
}

// formInput reads the edit form's fields.
func formInput(c echo.Context) (forms.Input, string) {
	attrs := c.FormValue("attrs")
	fields := []string{"email"}
	if c.FormValue("field_name") != "" {
		fields = append(fields, "name")
	}
	for _, a := range strings.FieldsFunc(attrs, func(r rune) bool { return r == ',' || r == '،' || r == ' ' }) {
		fields = append(fields, "attr."+strings.TrimPrefix(a, "attr."))
	}
	var ids []int64
	if vs, err := c.FormParams(); err == nil {
		for _, v := range vs["topic_ids"] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	doi := c.FormValue("double_opt_in") != ""
	redirect := strings.TrimSpace(c.FormValue("redirect_url"))
	return forms.Input{Name: c.FormValue("name"), Fields: fields, TopicIDs: ids, DoubleOptIn: &doi, RedirectURL: &redirect,
		Message: c.FormValue("message"), Language: c.FormValue("language")}, attrs
}

// asTyped is the form as typed, to show again with an error.
func asTyped(id int64, in forms.Input) forms.Form {
	f := forms.Form{ID: id, Name: in.Name, Fields: in.Fields, TopicIDs: in.TopicIDs, DoubleOptIn: *in.DoubleOptIn,
		Message: in.Message, Language: in.Language}
	if in.RedirectURL != nil && *in.RedirectURL != "" {
		f.RedirectURL = in.RedirectURL
	}
	return f
}

func (u *UI) formCreate(c echo.Context) error {
	in, attrs := formInput(c)
	f, err := forms.Create(c.Request().Context(), u.Pool, in)
	if fe, ok := asFormErr(err); ok {
		return u.showFormEdit(c, http.StatusUnprocessableEntity, formEditPage{Form: asTyped(0, in), Attrs: attrs, Err: fe})
	}
	if err != nil {
		return err
	}
	return redirect(c, "/admin/forms/"+strconv.FormatInt(f.ID, 10)+"?saved=1")
}

func (u *UI) formEdit(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	f, err := forms.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.showFormEdit(c, http.StatusOK, formEditPage{Form: f, Saved: c.QueryParam("saved") != ""})
}

func (u *UI) formSave(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	in, attrs := formInput(c)
	_, err = forms.Update(c.Request().Context(), u.Pool, id, in)
	if fe, ok := asFormErr(err); ok {
		old, gerr := forms.Get(c.Request().Context(), u.Pool, id)
		if gerr != nil {
			return u.pageErr(c, gerr)
		}
		f := asTyped(id, in)
		f.Stats = old.Stats
		return u.showFormEdit(c, http.StatusUnprocessableEntity, formEditPage{Form: f, Attrs: attrs, Err: fe})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/forms/"+strconv.FormatInt(id, 10)+"?saved=1")
}

func (u *UI) formDelete(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := forms.Delete(c.Request().Context(), u.Pool, id); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/forms")
}

// formPreview shows the hosted page as a visitor sees it, inert (nothing
// counted, nothing posted), for the edit page's frame.
func (u *UI) formPreview(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	f, err := forms.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	if u.Forms == nil {
		return u.pageErr(c, echo.ErrNotFound)
	}
	return u.Forms.Preview(c, f)
}
