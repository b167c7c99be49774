package tracking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// events is partitioned by UTC month of occurred_at (migration 038): a
// month is a table, so a year of history costs one table per month to keep
// and one DROP TABLE per month to let go. This file keeps the months ready
// ahead of the clock and drops those past the retention. What a drop keeps
// and loses is in docs/scaling.md ("Event history and retention"): the
// reports read the rollups and campaign_people, and the contacts' stats are
// counters, so none of them change; the raw rows (a contact's timeline and
// export, the per-delivery counts of deliveries.csv) go.

// PartitionAhead is how many months after the current one EnsurePartitions
// keeps created.
const PartitionAhead = 3

// DefaultPartition is the partition of events that holds rows no month
// holds (dated before the oldest month or after the newest).
const DefaultPartition = "events_default"

// partitionLockTimeout bounds the wait for events' lock: creating or
// dropping a month must not queue the tracking writer's inserts behind a
// long read of events. A run that times out fails and the next one (the
// job is periodic, and months are made three ahead) tries again.
const partitionLockTimeout = "5s"

// Partition is one partition of events: a month [From, To), or the
// default partition (Default, zero bounds).
type Partition struct {
	Name     string
	Default  bool
	From, To time.Time
}

// Beginner is what the partition upkeep needs: a pool (or a connection),
// to run its own transaction.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// PartitionName is the name of the partition of events holding month m
// (UTC), as migration 038 names them: events_y2026m01.
func PartitionName(m time.Time) string {
	m = m.UTC()
	return fmt.Sprintf("events_y%04dm%02d", m.Year(), int(m.Month()))
}

// MonthStart is the start of t's UTC month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ListPartitions returns events' partitions, the default first, then the
// months oldest first.
func ListPartitions(ctx context.Context, db RowsQuerier) ([]Partition, error) {
	rows, err := db.Query(ctx, query("partitions_list"))
	if err != nil {
		return nil, fmt.Errorf("list partitions of events: %w", err)
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		var p Partition
		var from, to *time.Time
		if err := rows.Scan(&p.Name, &p.Default, &from, &to); err != nil {
			return nil, fmt.Errorf("list partitions of events: %w", err)
		}
		if from != nil && to != nil {
			p.From, p.To = from.UTC(), to.UTC()
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list partitions of events: %w", err)
	}
	return out, nil
}

// EnsurePartitions creates the months of events from now's month to ahead
// months after it that do not exist yet, and returns their names. Rows of
// such a month already in the default partition move into it. It is
// idempotent, and concurrent callers (several processes starting at once)
// take turns on an advisory lock.
//
// A month is created as a table of its own and then attached, which locks
// events less than CREATE TABLE ... PARTITION OF would (SHARE UPDATE
// EXCLUSIVE: inserts and reads go on).
func EnsurePartitions(ctx context.Context, db Beginner, now time.Time, ahead int) ([]string, error) {
	var created []string
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		have, err := ListPartitions(ctx, tx)
		if err != nil {
			return err
		}
		exists := map[string]bool{}
		for _, p := range have {
			exists[p.Name] = true
		}
		for m := MonthStart(now); !m.After(MonthStart(now).AddDate(0, ahead, 0)); m = m.AddDate(0, 1, 0) {
			name := PartitionName(m)
			if exists[name] {
				continue
			}
			if err := createMonth(ctx, tx, name, m, m.AddDate(0, 1, 0)); err != nil {
				return err
			}
			created = append(created, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// createMonth creates, fills from the default partition and attaches the
// month [from, to) called name.
func createMonth(ctx context.Context, tx pgx.Tx, name string, from, to time.Time) error {
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS
		INCLUDING STORAGE INCLUDING STATISTICS)`, ident)); err != nil {
		return fmt.Errorf("create partition %s: %w", name, err)
	}
	var stray bool
	if err := tx.QueryRow(ctx, query("default_rows_in"), from, to).Scan(&stray); err != nil {
		return fmt.Errorf("partition %s: read the default partition: %w", name, err)
	}
	if stray {
		if _, err := tx.Exec(ctx, query("default_lock")); err != nil {
			return fmt.Errorf("partition %s: lock the default partition: %w", name, err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`WITH moved AS (DELETE FROM %s WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
			INSERT INTO %s SELECT * FROM moved`, pgx.Identifier{DefaultPartition}.Sanitize(), ident), from, to); err != nil {
			return fmt.Errorf("partition %s: move its rows out of the default partition: %w", name, err)
		}
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE events ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)`,
		ident, boundLiteral(from), boundLiteral(to))); err != nil {
		return fmt.Errorf("attach partition %s: %w", name, err)
	}
	return nil
}

// boundLiteral is t as a partition bound: a quoted UTC timestamp (DDL takes
// no parameters; the text is ours, never a user's).
func boundLiteral(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05") + "+00'"
}

// Dropped is what DropExpiredPartitions removed.
type Dropped struct {
	Partitions  []string // the months dropped, oldest first
	DefaultRows int64    // rows deleted from the default partition
}

// DropExpiredPartitions drops the months of events that end at or before
// now − keep (whole tables: no row is deleted one by one, nothing is left
// to vacuum) and deletes the default partition's rows older than that. A
// month that ends after the cutoff is kept whole, so at most a month more
// than keep is kept. keep ≤ 0 keeps everything.
//
// Nothing needs folding first: the reports read rollups, rollup_totals,
// rollup_hours and campaign_people, and the contacts' stats are counters,
// none of them derived from events again.
func DropExpiredPartitions(ctx context.Context, db Beginner, now time.Time, keep time.Duration) (Dropped, error) {
	var d Dropped
	if keep <= 0 {
		return d, nil
	}
	cutoff := now.Add(-keep)
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		parts, err := ListPartitions(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if p.Default || p.To.IsZero() || p.To.After(cutoff) {
				continue
			}
			if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{p.Name}.Sanitize()); err != nil {
				return fmt.Errorf("drop partition %s: %w", p.Name, err)
			}
			d.Partitions = append(d.Partitions, p.Name)
		}
		tag, err := tx.Exec(ctx, query("default_expire"), cutoff)
		if err != nil {
			return fmt.Errorf("expire the default partition's rows: %w", err)
		}
		d.DefaultRows = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return Dropped{}, err
	}
	return d, nil
}

// inTx runs fn in a transaction holding the partition upkeep's advisory
// lock, with events' lock wait bounded.
func inTx(ctx context.Context, db Beginner, fn func(pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("partitions of events: begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreClosed(tx.Rollback(context.WithoutCancel(ctx))))
		}
	}()
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+partitionLockTimeout+"'"); err != nil {
		return fmt.Errorf("partitions of events: %w", err)
	}
	if _, err := tx.Exec(ctx, query("partitions_lock")); err != nil {
		return fmt.Errorf("partitions of events: lock: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("partitions of events: commit: %w", err)
	}
	return nil
}

func ignoreClosed(err error) error {
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

// DefaultRowsCap is where PartitionStats stops counting the default
// partition's rows: enough to see it filling, never a long scan.
const DefaultRowsCap = 1_000_000

// PartitionStats is what /metrics shows of events' partitions.
type PartitionStats struct {
	Months         int       // month partitions (the default not counted)
	Oldest, Newest time.Time // the oldest month's start, the newest month's end (zero without months)
	DefaultRows    int64     // rows in the default partition, up to DefaultRowsCap
}

// ReadPartitionStats reads PartitionStats.
func ReadPartitionStats(ctx context.Context, db RowsQuerier) (PartitionStats, error) {
	parts, err := ListPartitions(ctx, db)
	if err != nil {
		return PartitionStats{}, err
	}
	var s PartitionStats
	for _, p := range parts {
		if p.Default || p.From.IsZero() {
			continue
		}
		if s.Months == 0 || p.From.Before(s.Oldest) {
			s.Oldest = p.From
		}
		if p.To.After(s.Newest) {
			s.Newest = p.To
		}
		s.Months++
	}
	if err := db.QueryRow(ctx, query("default_rows_capped"), DefaultRowsCap).Scan(&s.DefaultRows); err != nil {
		return PartitionStats{}, fmt.Errorf("count the default partition's rows: %w", err)
	}
	return s, nil
}
