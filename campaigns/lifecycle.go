package campaigns

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// Duplicate stores a new draft with campaign id's definition (segment,
// channel, sender, steps, rules, goals, throttle and settings) named
// "<name> (copy)", or "(copy 2)", "(copy 3)" … when that is taken. The
// copy has no schedule, history or archive mark, and its own webhook
// signing secret. It fails with errs.NotFound, or with the validation error
// of a definition that no longer passes today's checks.
func (s *Service) Duplicate(ctx context.Context, id int64) (Campaign, error) {
	orig, err := Get(ctx, s.Pool, id)
	if err != nil {
		return Campaign{}, err
	}
	if orig.IsTransactional() {
		return Campaign{}, errTransactional(orig, "duplicated")
	}
	name, err := copyName(ctx, s.Pool, orig.Name)
	if err != nil {
		return Campaign{}, err
	}
	c := orig
	c.ID, c.Name, c.Status = 0, name, StatusDraft
	c.ScheduledAt, c.LaunchedAt, c.FinishedAt, c.ArchivedAt = nil, nil, nil, nil
	c.Steps = append([]Step(nil), orig.Steps...)
	if w := orig.Settings.Webhook; w != nil {
		cp := *w
		cp.Secret = "" // Create generates the copy's own
		c.Settings.Webhook = &cp
	}
	if err := s.Create(ctx, &c); err != nil {
		return Campaign{}, err
	}
	return Get(ctx, s.Pool, c.ID)
}

// copyName is the first of "<name> (copy)", "<name> (copy 2)", … that no
// campaign has.
func copyName(ctx context.Context, db DBTX, name string) (string, error) {
	base := name + " (copy"
	rows, err := db.Query(ctx, query("campaign_names_like"), base+")", base)
	if err != nil {
		return "", fmt.Errorf("copy name: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("copy name: %w", err)
	}
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[n] = true
	}
	for i := 1; ; i++ {
		n := base + ")"
		if i > 1 {
			n = base + " " + strconv.Itoa(i) + ")"
		}
		if !taken[n] {
			return n, nil
		}
	}
}

// Delete removes a draft campaign with its steps. A campaign that was
// ever launched is refused with errs.Conflict: its deliveries, events and
// counters are its history (reports, contacts' stats, attributed revenue),
// so it is archived instead (Archive); one still scheduled, running or
// paused must be cancelled first. An unknown id is errs.NotFound.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := GetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		switch c.Status {
		case StatusDraft:
		case StatusScheduled, StatusRunning, StatusPaused:
			return errs.New(errs.Conflict, "campaign '%s' is %s: cancel it first; a campaign that has been launched is archived, not deleted", c.Name, c.Status)
		default:
			return errs.New(errs.Conflict, "campaign '%s' is %s and keeps its history (deliveries, reports): archive it to hide it from lists", c.Name, c.Status)
		}
		if _, err := tx.Exec(ctx, query("delete_campaign"), id); err != nil {
			return fmt.Errorf("delete campaign %d: %w", id, err)
		}
		return nil
	})
}

// Archive hides campaign id from lists (ListPage without archived); it
// keeps its definition, reports and history, and Unarchive brings it
// back. A scheduled, running or paused campaign is refused with
// errs.Conflict: it is still at work.
func (s *Service) Archive(ctx context.Context, id int64) (Campaign, error) {
	return s.setArchived(ctx, id, true)
}

// Unarchive shows an archived campaign in lists again.
func (s *Service) Unarchive(ctx context.Context, id int64) (Campaign, error) {
	return s.setArchived(ctx, id, false)
}

func (s *Service) setArchived(ctx context.Context, id int64, archived bool) (Campaign, error) {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := GetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if archived && (c.Status == StatusScheduled || c.Status == StatusRunning || c.Status == StatusPaused) {
			return errs.New(errs.Conflict, "campaign '%s' is %s: cancel it or let it finish before archiving it", c.Name, c.Status)
		}
		var at *time.Time // the new archived_at (nil: unarchived)
		if err := tx.QueryRow(ctx, query("set_archived"), id, archived).Scan(&at); err != nil {
			return fmt.Errorf("archive campaign %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	return Get(ctx, s.Pool, id)
}

// ListTotal returns how many campaigns there are, archived ones included only
// when archived is true.
func ListTotal(ctx context.Context, db DBTX, archived bool) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, query("count_campaigns"), archived).Scan(&n); err != nil {
		return 0, fmt.Errorf("count campaigns: %w", err)
	}
	return n, nil
}

// archivedParam reads ?archived=true|false (default false).
func archivedParam(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, errs.Field("archived", "must be true or false, not %q", v)
}
