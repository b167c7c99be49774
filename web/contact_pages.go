package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/analytics"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
	"github.com/peykar/peykar/tracking"
)

func (u *UI) contactRoutes(g *echo.Group) {
	g.GET("/contacts", u.contactList)
	g.GET("/contacts/import", u.importPage)
	g.GET("/contacts/new", u.contactNew)
	g.GET("/bulk/:id", u.bulkStatus)
	g.GET("/contacts/:id", u.contactProfile)
	g.POST("/contacts/:id/unsubscribe", u.contactUnsubscribe)
	g.POST("/contacts/:id/erase", u.contactErase)
	g.GET("/imports/:id", u.importStatus)
}

const contactsPerPage = 50

func (u *UI) contactList(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	q := strings.TrimSpace(c.QueryParam("q"))
	ctx := c.Request().Context()
	query := contacts.ListQuery{Q: q, After: after, Limit: contactsPerPage}
	segID, _ := strconv.ParseInt(c.QueryParam("segment_id"), 10, 64)
	if segID > 0 {
		seg, err := segments.CompileStored(ctx, u.Pool, segID)
		if err != nil {
			return u.pageErr(c, err)
		}
		query.Segment = seg
	}
	topicID, _ := strconv.ParseInt(c.QueryParam("topic_id"), 10, 64)
	filtered, err := withTopicFilter(query.Segment, topicID)
	if err != nil {
		return u.pageErr(c, err)
	}
	query.Segment = filtered
	topicChoices, err := u.topicChoices(ctx, []int64{topicID})
	if err != nil {
		return err
	}
	segs, err := u.pickerSegments(ctx, 500, segID)
	if err != nil {
		return err
	}
	list, err := contacts.List(ctx, u.Pool, query)
	if err != nil {
		return u.pageErr(c, err)
	}
	total, err := contacts.Count(ctx, u.Pool, query)
	if err != nil {
		return u.pageErr(c, err)
	}
	next := ""
	if len(list) == contactsPerPage {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	// The bulk bar acts on what the list shows: this filter, as the API takes it.
	filter, err := json.Marshal(contacts.BulkFilter{SegmentID: segID, Q: q})
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "contacts", pageData{Nav: "contacts", Data: map[string]any{
		"Contacts": list, "Q": q, "Next": next, "Segments": segs, "SegmentID": segID,
		"Total": total, "TotalText": u.count(c, total), "TotalOne": total == 1, "Filter": string(filter),
		"Topics": topicChoices, "TopicID": topicID}})
}

func (u *UI) contactProfile(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	ct, err := contacts.Get(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	attrs, err := json.Marshal(ct.Attributes)
	if err != nil {
		return err
	}
	tl, err := u.readContactTimeline(c, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	scores, computed, err := analytics.ContactScores(c.Request().Context(), u.Pool, id)
	if err != nil {
		return err
	}
	subs, err := u.contactTopics(c.Request().Context(), id)
	if err != nil {
		return err
	}
	known, err := campaigns.Channels(c.Request().Context(), u.Pool)
	if err != nil {
		return err
	}
	channels, err := contacts.ChannelStates(c.Request().Context(), u.Pool, id, known...)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, "contact", pageData{Title: ct.Email, Nav: "contacts",
		Data: contactPage{Contact: ct, Timeline: tl, Scores: scores, ScoredAt: computed,
			AttrsJSON: string(attrs), Subscriptions: subs, Channels: channels}})
}

// contactPage is a contact's profile with a page of its timeline and its
// analytics scores (nil before the first recompute that includes it).
type contactPage struct {
	contacts.Contact
	Timeline contactTimeline
	Scores   *analytics.ScoredContact
	ScoredAt time.Time
	// AttrsJSON are the attributes as the editor (contacts.js) reads them.
	AttrsJSON string
	// Subscriptions are the contact's topics and consent history.
	Subscriptions contactTopics
	// Channels is the contact's state on email and on each channel
	// campaigns send on (or that suppresses it).
	Channels []contacts.ChannelState
}

// contactUnsubscribe records an opt-out the contact gave another way (a
// reply, a call). It never lifts a stronger suppression (a bounce).
func (u *UI) contactUnsubscribe(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if err := contacts.Suppress(c.Request().Context(), u.Pool, id, contacts.StatusUnsubscribed); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/contacts/"+strconv.FormatInt(id, 10))
}

// contactErase erases a person's data (the right to erasure) once the form's
// confirmation box is ticked.
func (u *UI) contactErase(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	if c.FormValue("confirm") != "yes" {
		return u.pageErr(c, errs.Field("confirm", "tick the box to confirm the erasure"))
	}
	if err := contacts.Erase(c.Request().Context(), u.Pool, tracking.EventEraser{}, id); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/contacts/"+strconv.FormatInt(id, 10))
}

func (u *UI) importPage(c echo.Context) error {
	// ?kind=events opens the page with the events choice made.
	return u.render(c, http.StatusOK, "import", pageData{Nav: "contacts", Data: c.QueryParam("kind")})
}

// importStatus shows an import's progress (the whole page, or the panel
// alone when htmx polls it) and its rejected rows.
func (u *UI) importStatus(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	im, err := contacts.GetImport(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	if c.Request().Header.Get("HX-Request") != "" {
		return u.fragment(c, http.StatusOK, "import_status", "status", im)
	}
	return u.render(c, http.StatusOK, "import_status", pageData{Nav: "contacts", Data: im})
}
