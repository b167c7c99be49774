package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// entriesPerPage is the entries page's page size.
const entriesPerPage = 50

// entryRow is one line of the entries page: the entry and its contact's
// address ("" when the contact is gone).
type entryRow struct {
	campaigns.CampaignEntry
	Email string
}

// campaignEntries shows a triggered campaign's entries, newest first,
// keyset-paged, optionally of one status. It reads through the same
// campaigns.ListEntries as GET /api/v1/campaigns/{id}/entries.
func (u *UI) campaignEntries(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	status := c.QueryParam("status")
	if status != "" && !campaigns.ValidEntryStatus(status) {
		return u.pageErr(c, errs.New(errs.Invalid, "%s", u.t(c, "entries.bad_status", status)))
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return u.pageErr(c, errs.New(errs.Invalid, "%s", u.t(c, "entries.bad_after")))
		}
	}
	cp, err := campaigns.Get(ctx, u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	list, err := campaigns.ListEntries(ctx, u.Pool, id, after, status, entriesPerPage)
	if err != nil {
		return err
	}
	rows, err := u.entryRows(ctx, list)
	if err != nil {
		return err
	}
	next := ""
	if len(list) == entriesPerPage {
		next = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return u.render(c, http.StatusOK, "entries", pageData{Title: cp.Name, Nav: "campaigns", Data: map[string]any{
		"Campaign": cp, "Rows": rows, "Next": next, "Status": status,
		"Statuses": []string{"active", "done", "exited", "failed"}}})
}

// entryRows adds each entry's contact address, read in one query.
func (u *UI) entryRows(ctx context.Context, list []campaigns.CampaignEntry) ([]entryRow, error) {
	ids := make([]int64, len(list))
	for i, e := range list {
		ids[i] = e.ContactID
	}
	cs, err := contacts.GetMany(ctx, u.Pool, ids)
	if err != nil {
		return nil, err
	}
	email := make(map[int64]string, len(cs))
	for _, ct := range cs {
		email[ct.ID] = ct.Email
	}
	rows := make([]entryRow, len(list))
	for i, e := range list {
		rows[i] = entryRow{CampaignEntry: e, Email: email[e.ContactID]}
	}
	return rows, nil
}

// entryCounts are a triggered campaign's entries by status, for its page;
// Exits are the commonest exit reasons (at most maxExitReasons).
type entryCounts struct {
	Active, Done, Exited, Failed int64
	Exits                        []campaigns.EntryCount
}

// maxExitReasons is how many exit reasons the campaign page lists.
const maxExitReasons = 3

// journeyEntryCounts counts campaign id's entries in one grouped query.
func (u *UI) journeyEntryCounts(ctx context.Context, id int64) (entryCounts, error) {
	groups, err := campaigns.CountEntries(ctx, u.Pool, id)
	if err != nil {
		return entryCounts{}, err
	}
	var n entryCounts
	for _, g := range groups {
		switch g.Status {
		case "active":
			n.Active += g.Count
		case "done":
			n.Done += g.Count
		case "failed":
			n.Failed += g.Count
		case "exited":
			n.Exited += g.Count
			if len(n.Exits) < maxExitReasons {
				n.Exits = append(n.Exits, g)
			}
		}
	}
	return n, nil
}
