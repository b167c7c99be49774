// Package pgerr classifies PostgreSQL errors for the writers that retry.
package pgerr

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// Retryable reports whether err is a deadlock or a serialization failure:
// the database rolled the transaction back, and running it again may
// succeed.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
