package campaigns

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// CampaignEntry is one contact's pass through a triggered campaign: when
// they entered, the step they are at, and whether they are still in
// (active), went through every step (done), left (exited, with the
// reason) or could not be judged (failed: entry.when failed to evaluate,
// the error as exit_reason).
type CampaignEntry struct {
	// ID is the entry's id, the round of its deliveries.
	ID         int64      `json:"id"`
	ContactID  int64      `json:"contact_id"`
	EnteredAt  time.Time  `json:"entered_at"`
	Step       string     `json:"step"`
	Status     string     `json:"status"`
	ExitReason string     `json:"exit_reason"`
	ExitedAt   *time.Time `json:"exited_at,omitempty"`
}

// entryStatuses are the statuses ?status= accepts.
var entryStatuses = map[string]bool{"active": true, "exited": true, "done": true, "failed": true}

// ListEntries returns campaign id's entries newest first, with ids below
// after (0: from the newest), of status ("" any).
func ListEntries(ctx context.Context, db DBTX, id, after int64, status string, limit int) ([]CampaignEntry, error) {
	rows, err := db.Query(ctx, query("list_entries"), id, after, status, limit)
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignEntry, error) {
		var e CampaignEntry
		return e, r.Scan(&e.ID, &e.ContactID, &e.EnteredAt, &e.Step, &e.Status, &e.ExitReason, &e.ExitedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("list entries: %w", err)
	}
	return out, nil
}

// entries answers GET /campaigns/{id}/entries?status=&limit=&after=.
func (s *Service) entries(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return errs.Field("after", "must be a cursor from a previous page")
		}
	}
	status := c.QueryParam("status")
	if status != "" && !entryStatuses[status] {
		return errs.Field("status", "must be active, exited, done or failed, not %q", status)
	}
	if _, err := Get(ctx, s.Pool, id); err != nil {
		return err
	}
	items, err := ListEntries(ctx, s.Pool, id, after, status, limit)
	if err != nil {
		return err
	}
	out := struct {
		Items []CampaignEntry `json:"items"`
		Next  string          `json:"next"`
	}{Items: items}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

// EntryCount is how many of a campaign's entries have a status and, for
// exited ones, an exit reason ("" for the other statuses).
type EntryCount struct {
	Status     string
	ExitReason string
	Count      int64
}

// CountEntries counts campaign id's entries by status and exit reason,
// largest groups first.
func CountEntries(ctx context.Context, db DBTX, id int64) ([]EntryCount, error) {
	rows, err := db.Query(ctx, query("count_entries"), id)
	if err != nil {
		return nil, fmt.Errorf("count entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EntryCount, error) {
		var e EntryCount
		return e, r.Scan(&e.Status, &e.ExitReason, &e.Count)
	})
	if err != nil {
		return nil, fmt.Errorf("count entries: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].ExitReason < out[j].ExitReason
	})
	return out, nil
}

// ValidEntryStatus reports whether s is an entry status a list may be
// filtered by (active, exited, done, failed).
func ValidEntryStatus(s string) bool { return entryStatuses[s] }
