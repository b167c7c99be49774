package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipeTx is a transaction whose BEGIN and COMMIT travel in the batches of
// its statements: the outcome flush's first batch begins with BEGIN and
// its last ends with COMMIT, two round trips fewer than pgx's own Tx,
// which sends each alone (outcome_commit.go says why round trips matter).
// It is a pgx.Tx so that the functions of other packages that take one
// (River's InsertManyFastTx) run in it; it has no nested transactions.
type pipeTx struct{ conn *pgx.Conn }

var _ pgx.Tx = pipeTx{}

// errNoNestedTx is Begin's error: an outcome flush makes no savepoints.
var errNoNestedTx = errors.New("outcome flush: no nested transaction")

// queueBegin queues the transaction's BEGIN on b, which must be its first
// batch.
func (pipeTx) queueBegin(b *pgx.Batch) { b.Queue("BEGIN") }

// queueCommit queues the transaction's COMMIT on b, which must be its
// last batch; a transaction that a failed statement aborted answers
// ROLLBACK to a COMMIT, which reading b reports as pgx.ErrTxCommitRollback.
func (pipeTx) queueCommit(b *pgx.Batch) {
	b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() == "ROLLBACK" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
}

// Begin refuses: an outcome flush makes no savepoints.
func (pipeTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNoNestedTx }

// Commit commits the transaction in a round trip of its own (the flush
// queues its COMMIT instead).
func (t pipeTx) Commit(ctx context.Context) error {
	tag, err := t.conn.Exec(ctx, "COMMIT")
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

// Rollback rolls the transaction back.
func (t pipeTx) Rollback(ctx context.Context) error {
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

// CopyFrom is the connection's.
func (t pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, columns, src)
}

// SendBatch is the connection's.
func (t pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// LargeObjects is unsupported: the zero value, whose use fails.
func (pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

// Prepare is the connection's.
func (t pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

// Exec is the connection's.
func (t pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

// Query is the connection's.
func (t pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

// QueryRow is the connection's.
func (t pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}

// Conn is the connection the transaction runs on.
func (t pipeTx) Conn() *pgx.Conn { return t.conn }

// inPipeTx runs fn in a pipeTx on a connection of pool; fn queues the
// BEGIN and the COMMIT. When fn fails the transaction is rolled back (a
// connection left in a transaction would be dropped by the pool anyway).
func inPipeTx(ctx context.Context, pool *pgxpool.Pool, fn func(pipeTx) error) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("record outcomes: %w", err)
	}
	defer c.Release()
	tx := pipeTx{conn: c.Conn()}
	err = fn(tx)
	if st := c.Conn().PgConn().TxStatus(); st == 'T' || st == 'E' {
		_ = tx.Rollback(ctx)
		if err == nil {
			err = errors.New("record outcomes: the transaction was left open")
		}
	}
	return err
}
