package analytics

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// readTx starts a transaction (a savepoint in a caller's transaction)
// without JIT compilation, for a read
// that scans every scored contact (the summary): from about a million
// contacts on such statements cost above PostgreSQL's JIT inlining and
// optimisation thresholds and would spend seconds compiling each one (see
// begin). It works on a streaming replica too.
func readTx(ctx context.Context, db DBTX) (pgx.Tx, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}
