package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
)

// memberPage is how many contacts one transaction of a membership check
// lets in or out: each page commits its membership rows with the entries
// (or exits) they cause, so a crash repeats at most the page in flight and
// a repeated page finds its rows already written.
const memberPage = 500

// ExitSegment is the exit reason of a contact who left the campaign's
// segment (an exit condition {"segment_exit":true}).
const ExitSegment = "segment_exit"

// SyncSegmentEntries compares each running (or paused) segment-entry
// campaign's segment with its membership record (journey_members) at the
// engine's clock, letting new members in and taking out those who left.
// It is the periodic check: it catches what only time changes
// (days_since(…) > 30) and any contact change the per-contact check
// missed. A campaign that fails is logged and the others go on; the errors
// are returned together.
func (e *Engine) SyncSegmentEntries(ctx context.Context) error {
	ids, err := e.segmentEntryCampaigns(ctx, e.cfg.Pool)
	if err != nil {
		return err
	}
	var all []error
	for _, id := range ids {
		if err := e.SyncSegmentEntry(ctx, id); err != nil {
			e.Logger.ErrorContext(ctx, "segment entry check failed", slog.Int64("campaign_id", id), slog.Any("error", err))
			all = append(all, fmt.Errorf("campaign %d: %w", id, err))
		}
	}
	return errors.Join(all...)
}

func (e *Engine) segmentEntryCampaigns(ctx context.Context, db DBTX) ([]int64, error) {
	rows, err := db.Query(ctx, queries.Get("segment_entry_campaigns"))
	if err != nil {
		return nil, fmt.Errorf("segment entry campaigns: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("segment entry campaigns: %w", err)
	}
	return ids, nil
}

// SyncSegmentEntry is SyncSegmentEntries for one campaign. Its first call
// after launch takes the baseline: the segment's members then are recorded
// without entering (they were in the segment at launch). A campaign that is
// not a running segment-entry campaign is left alone.
func (e *Engine) SyncSegmentEntry(ctx context.Context, campaignID int64) error {
	c, rule, ok, err := e.segmentJourney(ctx, e.cfg.Pool, campaignID)
	if err != nil || !ok {
		return err
	}
	now := e.Now()
	baselined, err := hasBaseline(ctx, e.cfg.Pool, c.ID)
	if err != nil {
		return err
	}
	if !baselined {
		return e.baseline(ctx, &c, rule, now)
	}
	if rule.Translatable() {
		err = e.syncSQL(ctx, &c, rule, now)
	} else {
		err = e.syncGo(ctx, &c, rule, now)
	}
	if err != nil {
		return err
	}
	if _, err := e.cfg.Pool.Exec(ctx, queries.Get("journey_synced"), c.ID, now); err != nil {
		return fmt.Errorf("segment entry synced: %w", err)
	}
	return nil
}

// segmentJourney reads campaign id and compiles its segment; ok is false
// when it is not a running (or paused) segment-entry campaign.
func (e *Engine) segmentJourney(ctx context.Context, db DBTX, id int64) (campaigns.Campaign, *segments.Compiled, bool, error) {
	c, err := campaigns.Get(ctx, db, id)
	if errs.Is(err, errs.NotFound) {
		return c, nil, false, nil
	}
	if err != nil {
		return c, nil, false, err
	}
	if c.Entry.Type != campaigns.EntrySegmentEntry || c.SegmentID == nil || !acceptsEntries(&c, e.Now()) {
		return c, nil, false, nil
	}
	seg, err := segments.GetSegment(ctx, db, *c.SegmentID)
	if err != nil {
		return c, nil, false, err
	}
	rule, err := segments.CompileSegment(seg.Rule)
	if err != nil {
		return c, nil, false, fmt.Errorf("campaign %d segment: %w", id, err)
	}
	return c, rule, true, nil
}

func hasBaseline(ctx context.Context, db DBTX, campaignID int64) (bool, error) {
	var at time.Time
	err := db.QueryRow(ctx, queries.Get("journey_sync_state"), campaignID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("segment entry state: %w", err)
	}
	return true, nil
}

// baseline records the segment's members at now without letting them in,
// and the baseline itself, in one transaction: a per-contact check sees
// either no baseline (and waits for it) or all of it.
func (e *Engine) baseline(ctx context.Context, c *campaigns.Campaign, rule *segments.Compiled, now time.Time) error {
	return pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
		if where, args, ok := rule.SQL(now, 2); ok {
			q := `INSERT INTO journey_members (campaign_id, contact_id, since, seen_at)
SELECT $1, c.id, $2, $2 FROM contacts c` + contacts.StatsJoin + ` WHERE c.status <> 'erased' AND ` + where + ` ON CONFLICT DO NOTHING`
			if _, err := tx.Exec(ctx, q, append([]any{c.ID, now}, args...)...); err != nil {
				return fmt.Errorf("segment entry baseline: %w", err)
			}
		} else if err := walkGo(ctx, tx, rule, now, func(ids []int64) error {
			_, err := addMembers(ctx, tx, c.ID, ids, now, now)
			return err
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, queries.Get("journey_synced"), c.ID, now); err != nil {
			return fmt.Errorf("segment entry baseline: %w", err)
		}
		return nil
	})
}

// syncSQL is the check of a segment that compiles to SQL: two set
// differences between the segment and journey_members, a page at a time.
func (e *Engine) syncSQL(ctx context.Context, c *campaigns.Campaign, rule *segments.Compiled, now time.Time) error {
	where, args, _ := rule.SQL(now, 3)
	enter := `INSERT INTO journey_members (campaign_id, contact_id, since, seen_at)
SELECT $1, c.id, $2, $2 FROM contacts c` + contacts.StatsJoin + ` WHERE c.status <> 'erased' AND ` + where + `
	AND NOT EXISTS (SELECT 1 FROM journey_members m WHERE m.campaign_id = $1 AND m.contact_id = c.id)
ORDER BY c.id LIMIT $3 ON CONFLICT DO NOTHING RETURNING contact_id`
	err := pages(ctx, e.cfg.Pool, enter, append([]any{c.ID, now, memberPage}, args...), func(tx pgx.Tx, ids []int64) error {
		return e.enterMembers(ctx, tx, c, ids)
	})
	if err != nil {
		return fmt.Errorf("segment entry: %w", err)
	}
	where, args, _ = rule.SQL(now, 2)
	leave := `DELETE FROM journey_members WHERE campaign_id = $1 AND contact_id IN (
	SELECT m.contact_id FROM journey_members m WHERE m.campaign_id = $1 AND NOT EXISTS (
		SELECT 1 FROM contacts c` + contacts.StatsJoin + ` WHERE c.id = m.contact_id AND c.status <> 'erased' AND ` + where + `)
	LIMIT $2) RETURNING contact_id`
	err = pages(ctx, e.cfg.Pool, leave, append([]any{c.ID, memberPage}, args...), func(tx pgx.Tx, ids []int64) error {
		return e.leaveMembers(ctx, tx, c, ids)
	})
	if err != nil {
		return fmt.Errorf("segment exit: %w", err)
	}
	return nil
}

// syncGo is the check of a segment evaluated in Go: a keyset walk marks
// each member seen (and lets new ones in), then the members it did not see
// leave. Seen marks use the database's clock, which only moves forward,
// so an injected engine clock that stands still cannot hide a leaver.
func (e *Engine) syncGo(ctx context.Context, c *campaigns.Campaign, rule *segments.Compiled, now time.Time) error {
	var walk time.Time
	if err := e.cfg.Pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&walk); err != nil {
		return fmt.Errorf("segment entry: %w", err)
	}
	err := walkGo(ctx, e.cfg.Pool, rule, now, func(ids []int64) error {
		return pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
			entered, err := addMembers(ctx, tx, c.ID, ids, now, walk)
			if err != nil {
				return err
			}
			return e.enterMembers(ctx, tx, c, entered)
		})
	})
	if err != nil {
		return err
	}
	err = pages(ctx, e.cfg.Pool, queries.Get("remove_unseen_members"), []any{c.ID, walk, memberPage}, func(tx pgx.Tx, ids []int64) error {
		return e.leaveMembers(ctx, tx, c, ids)
	})
	if err != nil {
		return fmt.Errorf("segment exit: %w", err)
	}
	return nil
}

// walkGo calls fn with the segment's members at now, a keyset page at a
// time.
func walkGo(ctx context.Context, db DBTX, rule *segments.Compiled, now time.Time, fn func(ids []int64) error) error {
	after := int64(0)
	for {
		ids, err := rule.MatchingIDs(ctx, db, now, after, memberPage)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			if err := fn(ids); err != nil {
				return err
			}
			after = ids[len(ids)-1]
		}
		if len(ids) < memberPage {
			return nil
		}
	}
}

// addMembers upserts the members found (seen at seen) and returns those
// that were not members before.
func addMembers(ctx context.Context, tx pgx.Tx, campaignID int64, ids []int64, now, seen time.Time) ([]int64, error) {
	rows, err := tx.Query(ctx, queries.Get("add_members"), campaignID, ids, now, seen)
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	var entered []int64
	var id int64
	var isNew bool
	_, err = pgx.ForEachRow(rows, []any{&id, &isNew}, func() error {
		if isNew {
			entered = append(entered, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	return entered, nil
}

// pages runs q (which returns contact ids, at most a page) in a
// transaction with fn over its ids, until a page comes back short.
func pages(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, q string, args []any, fn func(tx pgx.Tx, ids []int64) error) error {
	for {
		var n int
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			n = len(ids)
			if n == 0 {
				return nil
			}
			return fn(tx, ids)
		})
		if err != nil || n < memberPage {
			return err
		}
	}
}

// enterMembers lets contacts who entered the segment into the campaign
// (Enter applies the re-entry policy, entry.when and sendability).
func (e *Engine) enterMembers(ctx context.Context, tx pgx.Tx, c *campaigns.Campaign, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	n, err := e.Enter(ctx, tx, c.ID, ids, EntryCause{Reason: campaigns.EntrySegmentEntry})
	if err != nil {
		return err
	}
	if n > 0 {
		e.Logger.DebugContext(ctx, "segment entries", slog.Int64("campaign_id", c.ID), slog.String("entered", strconv.Itoa(n)))
	}
	return nil
}

// hasSegmentExit reports whether leaving the segment takes a contact out
// of c.
func hasSegmentExit(c *campaigns.Campaign) bool {
	for _, x := range c.Exit {
		if x.SegmentExit {
			return true
		}
	}
	return false
}
