package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
)

// DBTX is a pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	var rules, goals, settings, entry, exit []byte
	err := row.Scan(&c.ID, &c.Name, &c.SegmentID, &c.Channel, &c.From.Name, &c.From.Email, &c.ReplyTo, &c.Status,
		&c.ThrottlePerSecond, &c.ScheduledAt, &c.LaunchedAt, &c.FinishedAt, &rules, &goals, &settings, &c.CreatedAt, &c.UpdatedAt, &c.ArchivedAt,
		&entry, &c.Reentry, &exit, &c.EndsAt, &c.TransactionalTemplateID)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(entry, &c.Entry); err != nil {
		return c, fmt.Errorf("campaign %d entry: %w", c.ID, err)
	}
	if err := json.Unmarshal(exit, &c.Exit); err != nil {
		return c, fmt.Errorf("campaign %d exit: %w", c.ID, err)
	}
	if err := json.Unmarshal(rules, &c.Rules); err != nil {
		return c, fmt.Errorf("campaign %d rules: %w", c.ID, err)
	}
	if err := json.Unmarshal(goals, &c.Goals); err != nil {
		return c, fmt.Errorf("campaign %d goals: %w", c.ID, err)
	}
	if err := json.Unmarshal(settings, &c.Settings); err != nil {
		return c, fmt.Errorf("campaign %d settings: %w", c.ID, err)
	}
	return c, nil
}

// Get returns campaign id with its steps. It fails with errs.NotFound.
func Get(ctx context.Context, db DBTX, id int64) (Campaign, error) {
	return get(ctx, db, id, "get_campaign")
}

// GetForUpdate is Get that locks the campaign row until tx ends.
func GetForUpdate(ctx context.Context, tx pgx.Tx, id int64) (Campaign, error) {
	return get(ctx, tx, id, "get_campaign_for_update")
}

func get(ctx context.Context, db DBTX, id int64, queryName string) (Campaign, error) {
	c, err := scanCampaign(db.QueryRow(ctx, query(queryName), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errs.New(errs.NotFound, "no campaign %d", id)
	}
	if err != nil {
		return c, fmt.Errorf("get campaign %d: %w", id, err)
	}
	if c.Steps, err = steps(ctx, db, id); err != nil {
		return c, err
	}
	if c.TopicIDs, err = campaignTopics(ctx, db, id); err != nil {
		return c, err
	}
	return c, loadExperiment(ctx, db, &c)
}

func steps(ctx context.Context, db DBTX, id int64) ([]Step, error) {
	rows, err := db.Query(ctx, query("list_steps"), id)
	if err != nil {
		return nil, fmt.Errorf("campaign %d steps: %w", id, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Step, error) {
		var s Step
		return s, r.Scan(&s.Key, &s.TemplateID)
	})
}

// List returns campaigns newest first, with ids below after (0: from the
// newest), archived ones included.
func List(ctx context.Context, db DBTX, after int64, limit int) ([]Campaign, error) {
	return ListPage(ctx, db, after, limit, true)
}

// ListPage is List that leaves archived campaigns out unless archived.
func ListPage(ctx context.Context, db DBTX, after int64, limit int, archived bool) ([]Campaign, error) {
	rows, err := db.Query(ctx, query("list_campaigns"), after, limit, archived)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	for i := range list {
		if list[i].Steps, err = steps(ctx, db, list[i].ID); err != nil {
			return nil, err
		}
		if list[i].TopicIDs, err = campaignTopics(ctx, db, list[i].ID); err != nil {
			return nil, err
		}
		if err := loadExperiment(ctx, db, &list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

func jsonArg(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	return b
}

// insert stores a new draft campaign and its steps.
func insert(ctx context.Context, tx pgx.Tx, c *Campaign) error {
	err := tx.QueryRow(ctx, query("insert_campaign"),
		c.Name, c.SegmentID, c.Channel, c.From.Name, c.From.Email, c.ReplyTo, c.ThrottlePerSecond,
		c.ScheduledAt, jsonArg(c.Rules), jsonArg(c.Goals), jsonArg(c.Settings),
		jsonArg(c.Entry), c.Reentry, jsonArg(c.Exit), c.EndsAt,
	).Scan(&c.Status, &c.CreatedAt, &c.UpdatedAt, &c.ID)
	if err != nil {
		return wrapFK(err, "insert campaign")
	}
	if err := saveTopics(ctx, tx, c); err != nil {
		return err
	}
	if err := saveExperiment(ctx, tx, c); err != nil {
		return err
	}
	return replaceSteps(ctx, tx, c.ID, c.Steps)
}

// update stores c's editable fields.
func update(ctx context.Context, tx pgx.Tx, c *Campaign) error {
	err := tx.QueryRow(ctx, query("update_campaign"),
		c.ID, c.Name, c.SegmentID, c.Channel, c.From.Name, c.From.Email, c.ReplyTo, c.ThrottlePerSecond,
		c.ScheduledAt, jsonArg(c.Rules), jsonArg(c.Goals), jsonArg(c.Settings),
		jsonArg(c.Entry), c.Reentry, jsonArg(c.Exit), c.EndsAt,
	).Scan(&c.UpdatedAt)
	if err != nil {
		return wrapFK(err, "update campaign")
	}
	if err := saveTopics(ctx, tx, c); err != nil {
		return err
	}
	if err := saveExperiment(ctx, tx, c); err != nil {
		return err
	}
	return replaceSteps(ctx, tx, c.ID, c.Steps)
}

func replaceSteps(ctx context.Context, tx pgx.Tx, id int64, steps []Step) error {
	if _, err := tx.Exec(ctx, query("delete_steps"), id); err != nil {
		return fmt.Errorf("replace steps: %w", err)
	}
	for i, s := range steps {
		_, err := tx.Exec(ctx, query("insert_step"), id, s.Key, i, s.TemplateID)
		if err != nil {
			return wrapFK(err, fmt.Sprintf("steps[%d]", i))
		}
	}
	return nil
}

// wrapFK turns a foreign-key violation into a clear invalid-field error.
func wrapFK(err error, what string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		switch pgErr.ConstraintName {
		case "campaigns_segment_id_fkey":
			return errs.Field("segment_id", "no such segment")
		case "campaign_steps_template_id_fkey":
			return errs.Field("steps", "a step names a template that does not exist")
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// setStatus records a status change. launched_at is when the campaign
// first became running: when sending began (for a scheduled campaign, when
// its launch job started, not when Launch was pressed).
func setStatus(ctx context.Context, tx pgx.Tx, id int64, status string) error {
	_, err := tx.Exec(ctx, query("set_status"), id, status)
	if err != nil {
		return fmt.Errorf("set campaign %d status: %w", id, err)
	}
	return nil
}

// SaveLinks records the tracked links of a campaign step (replacing any).
func SaveLinks(ctx context.Context, tx pgx.Tx, campaignID int64, step string, links []Link) error {
	if _, err := tx.Exec(ctx, query("delete_links"), campaignID, step); err != nil {
		return fmt.Errorf("save links: %w", err)
	}
	rows := make([][]any, len(links))
	for i, l := range links {
		rows[i] = []any{campaignID, step, l.Idx, l.URL, l.Name}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"campaign_links"}, []string{"campaign_id", "step", "idx", "url", "name"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("save links: %w", err)
	}
	return nil
}

// Link is a tracked link of a step.
type Link struct {
	Idx  int    `json:"idx"`
	URL  string `json:"url"`
	Name string `json:"name"`
}

// LinkOf returns the tracked link idx of a campaign step; a link that is not
// recorded (ok false) is not an error: the event may predate its step's links.
func LinkOf(ctx context.Context, db DBTX, campaignID int64, step string, idx int) (l Link, ok bool, err error) {
	l.Idx = idx
	err = db.QueryRow(ctx, query("link"), campaignID, step, idx).Scan(&l.URL, &l.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("campaign %d link %s/%d: %w", campaignID, step, idx, err)
	}
	return l, true, nil
}

// AdvanceLaunch records how far the launch has walked the segment.
func AdvanceLaunch(ctx context.Context, tx pgx.Tx, id, cursor int64, suppressed int, done bool) error {
	_, err := tx.Exec(ctx, query("advance_launch"), id, cursor, suppressed, done)
	if err != nil {
		return fmt.Errorf("advance launch of campaign %d: %w", id, err)
	}
	return nil
}

// LaunchState is how far a campaign's launch has come.
type LaunchState struct {
	Cursor     int64
	Done       bool
	Suppressed int64
	// Status, LaunchedAt and ThrottlePerSecond are the campaign's, for the
	// progress figures (send rate, ETA).
	Status            string
	LaunchedAt        *time.Time
	ThrottlePerSecond float64
}

// GetLaunchState reads the launch progress.
func GetLaunchState(ctx context.Context, db DBTX, id int64) (LaunchState, error) {
	var s LaunchState
	err := db.QueryRow(ctx, query("launch_state"), id).Scan(&s.Cursor, &s.Done, &s.Suppressed, &s.Status, &s.LaunchedAt, &s.ThrottlePerSecond)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errs.New(errs.NotFound, "no campaign %d", id)
	}
	if err != nil {
		return s, fmt.Errorf("launch state of campaign %d: %w", id, err)
	}
	return s, nil
}

// Start moves a scheduled campaign to running when its time has come; it
// reports whether the campaign is now running.
func Start(ctx context.Context, tx pgx.Tx, id int64) (bool, error) {
	c, err := GetForUpdate(ctx, tx, id)
	if err != nil {
		return false, err
	}
	switch c.Status {
	case StatusScheduled:
		return true, setStatus(ctx, tx, id, StatusRunning)
	case StatusRunning, StatusPaused:
		return true, nil
	default:
		return false, nil
	}
}

// Finish marks a running campaign finished. The caller has checked that
// nothing is left to send while holding the campaign row lock (LockRow).
func Finish(ctx context.Context, tx pgx.Tx, id int64) (bool, error) {
	tag, err := tx.Exec(ctx, query("finish"), id)
	if err != nil {
		return false, fmt.Errorf("finish campaign %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// LockRow locks the campaign row until tx ends, serialising the
// transactions that decide whether it is finished.
func LockRow(ctx context.Context, tx pgx.Tx, id int64) error {
	_, err := tx.Exec(ctx, query("lock_row"), id)
	if err != nil {
		return fmt.Errorf("lock campaign %d: %w", id, err)
	}
	return nil
}

// StatusOf reads just the status, for workers that poll it.
func StatusOf(ctx context.Context, db DBTX, id int64) (status string, throttle float64, err error) {
	err = db.QueryRow(ctx, query("status_of"), id).Scan(&status, &throttle)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, errs.New(errs.NotFound, "no campaign %d", id)
	}
	return status, throttle, err
}
