package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// loadExperiment fills c's A/B test and its steps' variants.
func loadExperiment(ctx context.Context, db DBTX, c *Campaign) error {
	var test, variants []byte
	err := db.QueryRow(ctx, query("get_experiment"), c.ID).Scan(&test, &variants)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("campaign %d experiment: %w", c.ID, err)
	}
	if len(test) > 0 && string(test) != "null" {
		c.ABTest = &ABTest{}
		if err := json.Unmarshal(test, c.ABTest); err != nil {
			return fmt.Errorf("campaign %d ab_test: %w", c.ID, err)
		}
	}
	byStep := map[string][]Variant{}
	if err := json.Unmarshal(variants, &byStep); err != nil {
		return fmt.Errorf("campaign %d variants: %w", c.ID, err)
	}
	for i := range c.Steps {
		c.Steps[i].Variants = byStep[c.Steps[i].Key]
	}
	return nil
}

// saveExperiment stores c's A/B test and variants (none: no row).
func saveExperiment(ctx context.Context, tx pgx.Tx, c *Campaign) error {
	byStep := map[string][]Variant{}
	for _, s := range c.Steps {
		if len(s.Variants) > 0 {
			byStep[s.Key] = s.Variants
		}
	}
	if c.ABTest == nil && len(byStep) == 0 {
		if _, err := tx.Exec(ctx, query("delete_experiment"), c.ID); err != nil {
			return fmt.Errorf("save experiment: %w", err)
		}
		return nil
	}
	var test []byte
	if c.ABTest != nil {
		test = jsonArg(c.ABTest)
	}
	if _, err := tx.Exec(ctx, query("save_experiment"), c.ID, test, jsonArg(byStep)); err != nil {
		return fmt.Errorf("save experiment: %w", err)
	}
	return nil
}

// ABRun is the state of a campaign's A/B test once launched.
type ABRun struct {
	Step      string
	StartedAt time.Time
	EndsAt    time.Time
	// Winner is empty while the test runs.
	Winner   string
	ChosenAt *time.Time
	// ChosenBy is "auto" (the engine, when the duration ended) or "manual".
	ChosenBy string
	// Reason says why the winner won.
	Reason          string
	RemainderDone   bool
	RemainderSentAt *time.Time
	// Remainder is how many contacts wait for the winner.
	Remainder int64
}

// GetABRun returns the run of campaign id's A/B test (false: not started).
func GetABRun(ctx context.Context, db DBTX, id int64) (ABRun, bool, error) {
	var r ABRun
	err := db.QueryRow(ctx, query("get_ab_test"), id).Scan(&r.Step, &r.StartedAt, &r.EndsAt, &r.Winner, &r.ChosenAt,
		&r.ChosenBy, &r.Reason, &r.RemainderDone, &r.RemainderSentAt, &r.Remainder)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("campaign %d A/B test: %w", id, err)
	}
	return r, true, nil
}

// StartABTest records that campaign id's test of step began at at and
// ends at endsAt; a later call (the next launch page) changes nothing.
func StartABTest(ctx context.Context, tx pgx.Tx, id int64, step string, at, endsAt time.Time) error {
	if _, err := tx.Exec(ctx, query("start_ab_test"), id, step, at, endsAt); err != nil {
		return fmt.Errorf("start A/B test of campaign %d: %w", id, err)
	}
	return nil
}

// AddRemainder records contacts held back for the winner of campaign id's
// test, in the launch page's transaction.
func AddRemainder(ctx context.Context, tx pgx.Tx, id int64, contactIDs []int64) error {
	if len(contactIDs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, query("add_remainder"), id, contactIDs); err != nil {
		return fmt.Errorf("record A/B remainder of campaign %d: %w", id, err)
	}
	return nil
}

// DueABTests lists campaigns whose test has no winner and whose duration
// has passed at now.
func DueABTests(ctx context.Context, db DBTX, now time.Time) ([]int64, error) {
	rows, err := db.Query(ctx, query("due_ab_tests"), now)
	if err != nil {
		return nil, fmt.Errorf("due A/B tests: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("due A/B tests: %w", err)
	}
	return ids, nil
}

// ChooseWinner records variant as the winner of campaign id's test, chosen
// by ("auto" or "manual") at at for reason. A test that has a winner
// already keeps it: the answer is errs.Conflict.
func ChooseWinner(ctx context.Context, tx pgx.Tx, id int64, variant, by, reason string, at time.Time) error {
	err := tx.QueryRow(ctx, query("choose_winner"), id, variant, at, by, reason).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.New(errs.Conflict, "the A/B test of campaign %d has a winner already (or has not started)", id)
	}
	if err != nil {
		return fmt.Errorf("choose A/B winner of campaign %d: %w", id, err)
	}
	return nil
}

// RemainderPage returns up to limit contacts of the remainder after the
// cursor, in id order.
func RemainderPage(ctx context.Context, db DBTX, id int64, limit int) ([]int64, error) {
	rows, err := db.Query(ctx, query("remainder_page"), id, limit)
	if err != nil {
		return nil, fmt.Errorf("A/B remainder of campaign %d: %w", id, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("A/B remainder of campaign %d: %w", id, err)
	}
	return ids, nil
}

// AdvanceRemainder moves the remainder's cursor to last; done marks the
// remainder sent (given its deliveries) at at.
func AdvanceRemainder(ctx context.Context, tx pgx.Tx, id, last int64, done bool, at time.Time) error {
	if _, err := tx.Exec(ctx, query("advance_remainder"), id, last, done, at); err != nil {
		return fmt.Errorf("advance A/B remainder of campaign %d: %w", id, err)
	}
	return nil
}

// RemainderPending reports whether campaign id still owes the winner to a
// remainder: such a campaign is not finished when its test group is.
func RemainderPending(ctx context.Context, db DBTX, id int64) (bool, error) {
	var pending bool
	if err := db.QueryRow(ctx, query("remainder_pending"), id).Scan(&pending); err != nil {
		return false, fmt.Errorf("A/B remainder of campaign %d: %w", id, err)
	}
	return pending, nil
}
