package pgerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/pgerr"
)

func TestRetryable(t *testing.T) {
	require.True(t, pgerr.Retryable(fmt.Errorf("flush: %w", &pgconn.PgError{Code: "40P01"})))
	require.True(t, pgerr.Retryable(&pgconn.PgError{Code: "40001"}))
	require.False(t, pgerr.Retryable(&pgconn.PgError{Code: "23505"}))
	require.False(t, pgerr.Retryable(errors.New("connection refused")))
	require.False(t, pgerr.Retryable(nil))
}
