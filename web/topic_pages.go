package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

func (u *UI) topicRoutes(g *echo.Group) {
	g.GET("/topics", u.topicList)
	g.POST("/topics", u.topicCreate)
	g.POST("/topics/:id", u.topicUpdate)
	g.POST("/topics/:id/archive", u.topicArchive(true))
	g.POST("/topics/:id/unarchive", u.topicArchive(false))
	g.POST("/contacts/:id/topics", u.contactTopicSet)
}

// topicPage is the topic list with the create (or edit) form as typed.
type topicPage struct {
	Items    []topics.Topic
	Archived bool
	// Edit is the topic the form edits (0: the form creates one).
	Edit              int64
	Name, Description string
	Public            bool
	Err               formErr
}

func (u *UI) topicList(c echo.Context) error {
	p := topicPage{Archived: c.QueryParam("archived") == "1"}
	if id, _ := strconv.ParseInt(c.QueryParam("edit"), 10, 64); id > 0 {
		t, err := topics.Get(c.Request().Context(), u.Pool, id)
		if err != nil {
			return u.pageErr(c, err)
		}
		p.Edit, p.Name, p.Description, p.Public = t.ID, t.Name, t.Description, t.Public
	}
	return u.showTopics(c, http.StatusOK, p)
}

func (u *UI) showTopics(c echo.Context, status int, p topicPage) error {
	items, err := topics.List(c.Request().Context(), u.Pool, false, p.Archived)
	if err != nil {
		return err
	}
	p.Items = items
	return u.render(c, status, "topics", pageData{Title: u.t(c, "topics.title"), Nav: "topics", Data: p})
}

// topicForm reads the create/edit form.
func topicForm(c echo.Context) (topicPage, topics.Input) {
	p := topicPage{Name: c.FormValue("name"), Description: c.FormValue("description"), Public: c.FormValue("public") == "1"}
	return p, topics.Input{Name: &p.Name, Description: &p.Description, Public: &p.Public}
}

func (u *UI) topicCreate(c echo.Context) error {
	p, in := topicForm(c)
	_, err := topics.Create(c.Request().Context(), u.Pool, in)
	if fe, ok := asFormErr(err); ok {
		p.Err = fe
		return u.showTopics(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	return redirect(c, "/admin/topics")
}

func (u *UI) topicUpdate(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	p, in := topicForm(c)
	p.Edit = id
	_, err = topics.Update(c.Request().Context(), u.Pool, id, in)
	if fe, ok := asFormErr(err); ok {
		p.Err = fe
		return u.showTopics(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/topics")
}

func (u *UI) topicArchive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return u.pageErr(c, err)
		}
		if _, err := topics.Archive(c.Request().Context(), u.Pool, id, archived); err != nil {
			return u.pageErr(c, err)
		}
		if archived {
			return redirect(c, "/admin/topics")
		}
		return redirect(c, "/admin/topics?archived=1")
	}
}

// contactTopicSet subscribes (action=subscribe) or unsubscribes the
// contact on a topic from its profile, recorded as the logged-in user's
// change.
func (u *UI) contactTopicSet(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	topic, err := strconv.ParseInt(c.FormValue("topic_id"), 10, 64)
	if err != nil || topic <= 0 {
		return u.pageErr(c, errs.Field("topic_id", "choose a topic"))
	}
	src := topics.Source{Kind: topics.SourceAdmin}
	if who, ok := auth.FromContext(c); ok {
		src.UserID = who.UserID
	}
	p := contacts.ContactPatch{Source: src}
	if c.FormValue("action") == "subscribe" {
		p.TopicsAdd = []int64{topic}
	} else {
		p.TopicsRemove = []int64{topic}
	}
	if _, err := contacts.Patch(c.Request().Context(), u.Pool, id, p); err != nil {
		return u.pageErr(c, err)
	}
	return redirect(c, "/admin/contacts/"+strconv.FormatInt(id, 10)+"#topics-h")
}

// contactTopics is the profile's subscriptions section: each live topic
// (and any archived one the contact has a state on) with the contact's
// state, and the consent history with topic names.
type contactTopics struct {
	Rows    []topicRow
	Consent []consentRow
	// ConsentMore: the history is longer than the page shows (the
	// export and GET /contacts/{id}/consent have it all).
	ConsentMore bool
}

type topicRow struct {
	Topic topics.Topic
	Sub   *topics.Subscription
}

type consentRow struct {
	topics.ConsentRecord
	TopicName string
}

// consentRows is how many consent records the profile shows.
const consentRows = 50

func (u *UI) contactTopics(ctx context.Context, id int64) (contactTopics, error) {
	var out contactTopics
	all, err := topics.List(ctx, u.Pool, false, true)
	if err != nil {
		return out, err
	}
	subs, err := topics.ForContact(ctx, u.Pool, id)
	if err != nil {
		return out, err
	}
	byTopic := map[int64]*topics.Subscription{}
	for i := range subs {
		byTopic[subs[i].TopicID] = &subs[i]
	}
	names := map[int64]string{}
	for _, t := range all {
		names[t.ID] = t.Name
		if s := byTopic[t.ID]; s != nil || t.ArchivedAt == nil {
			out.Rows = append(out.Rows, topicRow{Topic: t, Sub: s})
		}
	}
	hist, err := topics.History(ctx, u.Pool, id, 0, consentRows+1)
	if err != nil {
		return out, err
	}
	if len(hist) > consentRows {
		hist, out.ConsentMore = hist[:consentRows], true
	}
	for _, r := range hist {
		row := consentRow{ConsentRecord: r}
		if r.TopicID != nil {
			row.TopicName = names[*r.TopicID]
		}
		out.Consent = append(out.Consent, row)
	}
	return out, nil
}
