package baseservice_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/baseservice"
)

func TestClockAndLogger(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	b := baseservice.New(nil, func() time.Time { return at })
	require.Equal(t, at, b.Now())
	require.Equal(t, time.Hour, b.Since(at.Add(-time.Hour)))
	require.NotNil(t, b.Log(), "a nil logger discards")

	var zero baseservice.Base
	require.WithinDuration(t, time.Now(), zero.Now(), time.Minute, "the zero value reads the real time")
}
