package forms

import (
	"context"
	"embed"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/sqlq"
)

// DBTX is what the store functions take: a *pgxpool.Pool, a *pgx.Conn or a
// pgx.Tx, so a change joins the caller's transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

//go:embed *.sql
var queriesFS embed.FS

// queries are the package's statements on forms, form_signups and
// form_events (queries.sql).
var queries = sqlq.MustLoad(queriesFS)
