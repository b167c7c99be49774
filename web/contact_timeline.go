package web

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
)

// timelineRows is the page size of the contact page's timeline.
const timelineRows = 50

// contactTimeline is the contact page's timeline: one keyset page, the
// kind it is filtered by, and the links to the older and newest pages.
type contactTimeline struct {
	Items []timelineRow
	Kind  string // "" for every kind
	Kinds []string
	// Older is the cursor of the next (older) page, "" at the end.
	Older string
	// Paged is true past the first page (the page links back to the newest).
	Paged bool
}

// timelineRow is an item with its attributes summarised for the page.
type timelineRow struct {
	contacts.TimelineItem
	Summary string
}

// readContactTimeline reads the page of the timeline that ?kind= and
// ?after= ask for.
func (u *UI) readContactTimeline(c echo.Context, id int64) (contactTimeline, error) {
	kind := c.QueryParam("kind")
	after := c.QueryParam("after")
	q := contacts.TimelineQuery{After: after, Limit: timelineRows}
	if kind != "" {
		q.Kinds = []string{kind}
	}
	items, next, err := contacts.Timeline(c.Request().Context(), u.Pool, id, q)
	if err != nil {
		return contactTimeline{}, fmt.Errorf("contact page: %w", err)
	}
	tl := contactTimeline{Kind: kind, Kinds: contacts.TimelineKinds, Paged: after != "",
		Items: make([]timelineRow, len(items))}
	for i, it := range items {
		tl.Items[i] = timelineRow{TimelineItem: it, Summary: summariseAttributes(it.Attributes)}
	}
	tl.Older = next
	return tl, nil
}

// summariseAttributes writes up to four attributes as "key: value", keys
// in order, the whole cut at 120 characters ("" for none).
func summariseAttributes(attrs map[string]any) string {
	if len(attrs) == 0 {
		return ""
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, 5)
	for i, k := range keys {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("+%d", len(keys)-4))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %v", k, attrs[k]))
	}
	s := strings.Join(parts, " · ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}
