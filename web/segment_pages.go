package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/httpapi"
)

func (u *UI) segmentRoutes(g *echo.Group) {
	g.GET("/segments", u.segmentList)
	g.GET("/segments/new", u.segmentNew)
	g.POST("/segments", u.segmentCreate)
	g.GET("/segments/:id", u.segmentEdit)
	g.POST("/segments/:id", u.segmentUpdate)
}

type segmentForm struct {
	ID       int64
	Name     string
	Rule     string
	Err      formErr
	Archived bool
	Builder  segmentBuilder
}

func (u *UI) segmentList(c echo.Context) error {
	ctx := c.Request().Context()
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	archived := showArchived(c)
	list, err := segments.ListSegmentsPage(ctx, u.Pool, after, 100, archived)
	if err != nil {
		return err
	}
	listed, err := u.segmentCounts.Fill(ctx, u.readDB(ctx), list)
	if err != nil {
		return err
	}
	total, err := segments.CountSegments(ctx, u.Pool, archived)
	if err != nil {
		return err
	}
	next := ""
	if len(list) == 100 {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "segments", pageData{Nav: "segments", Data: map[string]any{"Segments": listed, "Next": next, "Total": total, "Archived": archived}})
}

func (u *UI) segmentNew(c echo.Context) error {
	b, err := u.builderData(c)
	if err != nil {
		return err
	}
	// "Save as segment" on the analytics page opens this form filled in
	// (?name=&rule=); nothing is saved until the form is submitted.
	f := segmentForm{Name: prefill(c.QueryParam("name"), 500), Rule: prefill(c.QueryParam("rule"), 10000), Builder: b}
	return u.render(c, http.StatusOK, "segment", pageData{Title: u.t(c, "segment.new"), Nav: "segments", Data: f})
}

func (u *UI) segmentEdit(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	s, err := segments.GetSegment(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	b, err := u.builderData(c)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "segment", pageData{Title: s.Name, Nav: "segments", Data: segmentForm{ID: s.ID, Name: s.Name, Rule: s.Rule, Archived: s.ArchivedAt != nil, Builder: b}})
}

func (u *UI) segmentCreate(c echo.Context) error { return u.segmentSave(c, 0) }

func (u *UI) segmentUpdate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	return u.segmentSave(c, id)
}

func (u *UI) segmentSave(c echo.Context, id int64) error {
	in := segments.SegmentInput{Name: c.FormValue("name"), Rule: c.FormValue("rule")}
	var s segments.Segment
	var err error
	if id == 0 {
		s, err = segments.CreateSegment(c.Request().Context(), u.Pool, in)
	} else {
		s, err = segments.UpdateSegment(c.Request().Context(), u.Pool, id, in)
	}
	if fe, ok := asFormErr(err); ok {
		if fe.Field == "rule" {
			fe.Message = exprWords(u.tr(c), "segment", fe.Message, fe.Position > 0)
		}
		form := segmentForm{ID: id, Name: in.Name, Rule: in.Rule, Err: fe}
		if form.Builder, err = u.builderData(c); err != nil {
			return err
		}
		return u.render(c, http.StatusUnprocessableEntity, "segment", pageData{Nav: "segments", Data: form})
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/segments/"+strconv.FormatInt(s.ID, 10))
}

// prefill is a form value passed in the URL, or "" when it is longer than
// the field takes (the form would refuse it anyway).
func prefill(s string, limit int) string {
	if len(s) > limit {
		return ""
	}
	return s
}
