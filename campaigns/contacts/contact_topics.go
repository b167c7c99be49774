package contacts

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// maxTopicsPerPatch bounds topics_add and topics_remove.
const maxTopicsPerPatch = 100

// ActorFunc says who made a request, as the source of the consent changes
// it causes: cmd implements it from the request's identity (an API token:
// api; a logged-in user: admin, with the user's id).
type ActorFunc func(c echo.Context) topics.Source

// actor is the request's consent source: Deps.Actor's, or api without one.
func (h *handlers) actor(c echo.Context) topics.Source {
	if h.deps.Actor != nil {
		return h.deps.Actor(c)
	}
	return topics.Source{Kind: topics.SourceAPI}
}

// applyTopics subscribes and unsubscribes contact id as p says, in tx, and
// returns its subscriptions after.
func (p *ContactPatch) applyTopics(ctx context.Context, tx pgx.Tx, id int64) ([]topics.Subscription, error) {
	if len(p.TopicsAdd) == 0 && len(p.TopicsRemove) == 0 {
		return topics.ForContact(ctx, tx, id)
	}
	if len(p.TopicsAdd) > maxTopicsPerPatch || len(p.TopicsRemove) > maxTopicsPerPatch {
		return nil, errs.Field("topics_add", "at most %d topics at a time", maxTopicsPerPatch)
	}
	if _, err := topics.ByIDs(ctx, tx, "topics_add", p.TopicsAdd); err != nil {
		return nil, err
	}
	if _, err := topics.ByIDs(ctx, tx, "topics_remove", p.TopicsRemove); err != nil {
		return nil, err
	}
	src := p.Source
	if src.Kind == "" {
		src.Kind = topics.SourceAPI
	}
	for _, t := range p.TopicsAdd {
		if slices.Contains(p.TopicsRemove, t) {
			continue
		}
		if _, err := topics.Set(ctx, tx, id, t, topics.Subscribed, src); err != nil {
			return nil, err
		}
	}
	for _, t := range p.TopicsRemove {
		if _, err := topics.Set(ctx, tx, id, t, topics.Unsubscribed, src); err != nil {
			return nil, err
		}
	}
	return topics.ForContact(ctx, tx, id)
}

// consentHistory serves GET /contacts/{id}/consent: the contact's consent
// records, newest first, in keyset pages (?after= the last id, ?limit=).
func (h *handlers) consentHistory(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c, 100, topics.MaxHistory)
	if err != nil {
		return err
	}
	a, err := after(c)
	if err != nil {
		return err
	}
	if _, err := Get(ctx, h.deps.Pool, id); err != nil {
		return err
	}
	items, err := topics.History(ctx, h.deps.Pool, id, a, limit)
	if err != nil {
		return err
	}
	out := httpapi.List[topics.ConsentRecord]{Items: items}
	if out.Items == nil {
		out.Items = []topics.ConsentRecord{}
	}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}
