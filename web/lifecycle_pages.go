package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/templates"
)

// lifecycleRoutes are the duplicate, archive and delete buttons of
// campaigns, segments and templates (POST forms with a confirmation).
func (u *UI) lifecycleRoutes(g *echo.Group) {
	g.POST("/campaigns/:id/duplicate", u.campaignDuplicate)
	g.POST("/campaigns/:id/delete", u.campaignDelete)
	g.POST("/campaigns/:id/archive", u.campaignArchive(true))
	g.POST("/campaigns/:id/unarchive", u.campaignArchive(false))
	g.POST("/segments/:id/delete", u.segmentDelete)
	g.POST("/segments/:id/archive", u.segmentArchive(true))
	g.POST("/segments/:id/unarchive", u.segmentArchive(false))
	g.POST("/templates/:id/delete", u.templateDelete)
	g.POST("/templates/:id/archive", u.templateArchive(true))
	g.POST("/templates/:id/unarchive", u.templateArchive(false))
}

// refusal is the page of a refused delete or archive: why, what still
// uses the item, and the way out (archive it, or go back).
type refusal struct {
	Message string
	Users   []errs.User
	Archive string // the archive form's action, "" when archiving is no way out
	Back    string
}

func (u *UI) refused(c echo.Context, r refusal) error {
	return u.render(c, http.StatusConflict, "lifecycle_refused", pageData{Title: u.t(c, "lifecycle.refused_title"), Data: r})
}

func itemPath(kind string, id int64) string {
	return "/admin/" + kind + "/" + strconv.FormatInt(id, 10)
}

func (u *UI) campaignDuplicate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	cp, err := u.Campaigns.Duplicate(c.Request().Context(), id)
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, itemPath("campaigns", cp.ID))
}

// campaignRefusal explains, in the page's language, why campaign cp cannot
// be deleted or archived now; ok false when its status is not the reason.
func (u *UI) campaignRefusal(c echo.Context, cp campaigns.Campaign, deleting bool) (refusal, bool) {
	status := u.t(c, "status."+cp.Status)
	r := refusal{Back: itemPath("campaigns", cp.ID)}
	switch cp.Status {
	case campaigns.StatusScheduled, campaigns.StatusRunning, campaigns.StatusPaused:
		r.Message = u.t(c, "lifecycle.campaign_active", cp.Name, status)
	case campaigns.StatusFinished, campaigns.StatusCancelled:
		if !deleting {
			return r, false
		}
		r.Message = u.t(c, "lifecycle.campaign_history", cp.Name, status)
		if cp.ArchivedAt == nil {
			r.Archive = itemPath("campaigns", cp.ID) + "/archive"
		}
	default:
		return r, false
	}
	return r, true
}

func (u *UI) campaignDelete(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	err = u.Campaigns.Delete(ctx, id)
	if errs.Is(err, errs.Conflict) {
		if cp, gerr := campaigns.Get(ctx, u.Pool, id); gerr == nil {
			if r, ok := u.campaignRefusal(c, cp, true); ok {
				return u.refused(c, r)
			}
		}
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/campaigns")
}

func (u *UI) campaignArchive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return u.pageErr(c, err)
		}
		if archived {
			_, err = u.Campaigns.Archive(ctx, id)
		} else {
			_, err = u.Campaigns.Unarchive(ctx, id)
		}
		if errs.Is(err, errs.Conflict) {
			if cp, gerr := campaigns.Get(ctx, u.Pool, id); gerr == nil {
				if r, ok := u.campaignRefusal(c, cp, false); ok {
					return u.refused(c, r)
				}
			}
		}
		if err != nil {
			return u.pageErr(c, err)
		}
		return redirect(c, listAfterArchive("campaigns", id, archived))
	}
}

// listAfterArchive is where an archive button leads: the list (where the
// item is gone) after archiving, the item after unarchiving.
func listAfterArchive(kind string, id int64, archived bool) string {
	if archived {
		return "/admin/" + kind
	}
	return itemPath(kind, id)
}

// inUse shows the refusal of deleting kind id that campaigns still use.
func (u *UI) inUse(c echo.Context, kind, name string, id int64, err error) error {
	users := errs.UsedBy(err)
	if users == nil {
		return u.pageErr(c, err)
	}
	return u.refused(c, refusal{Message: u.t(c, "lifecycle.in_use", name), Users: users,
		Archive: itemPath(kind, id) + "/archive", Back: itemPath(kind, id)})
}

func (u *UI) segmentDelete(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	s, err := segments.GetSegment(ctx, u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := segments.DeleteSegment(ctx, u.Pool, id); err != nil {
		return u.inUse(c, "segments", s.Name, id, err)
	}
	return redirect(c, "/admin/segments")
}

func (u *UI) segmentArchive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return u.pageErr(c, err)
		}
		if _, err := segments.ArchiveSegment(c.Request().Context(), u.Pool, id, archived); err != nil {
			return u.pageErr(c, err)
		}
		return redirect(c, listAfterArchive("segments", id, archived))
	}
}

func (u *UI) templateDelete(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	t, err := templates.Get(ctx, u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := templates.Delete(ctx, u.Pool, id); err != nil {
		return u.inUse(c, "templates", t.Name, id, err)
	}
	return redirect(c, "/admin/templates")
}

func (u *UI) templateArchive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return u.pageErr(c, err)
		}
		if _, err := templates.Archive(c.Request().Context(), u.Pool, id, archived); err != nil {
			return u.pageErr(c, err)
		}
		return redirect(c, listAfterArchive("templates", id, archived))
	}
}

// showArchived reads the lists' ?archived=1 toggle.
func showArchived(c echo.Context) bool {
	v := c.QueryParam("archived")
	return v == "1" || v == "true"
}

// pickable leaves archived segments and templates out of the campaign
// form's pickers, but those the campaign already uses (so editing it keeps
// its choices).
func pickable(f campaignForm, segs []segments.Segment, tpls []templates.Template) ([]segments.Segment, []templates.Template) {
	outS := segs[:0:0]
	for _, s := range segs {
		if s.ArchivedAt == nil || (f.SegmentID != nil && *f.SegmentID == s.ID) {
			outS = append(outS, s)
		}
	}
	used := map[int64]bool{}
	for _, st := range f.StepRows {
		used[st.TemplateID] = true
	}
	outT := tpls[:0:0]
	for _, t := range tpls {
		if t.ArchivedAt == nil || used[t.ID] {
			outT = append(outT, t)
		}
	}
	return outS, outT
}
