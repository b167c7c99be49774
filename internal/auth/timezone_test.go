package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestUserTimezone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	u, err := auth.CreateUser(ctx, pool, "zone@example.com", "a long password!", auth.RoleMarketer)
	require.NoError(t, err)

	tz, err := auth.Timezone(ctx, pool, u.ID)
	require.NoError(t, err)
	require.Empty(t, tz, "no zone until the user picks one")

	require.NoError(t, auth.SetTimezone(ctx, pool, u.ID, "Asia/Tehran"))
	tz, err = auth.Timezone(ctx, pool, u.ID)
	require.NoError(t, err)
	require.Equal(t, "Asia/Tehran", tz)

	for _, bad := range []string{"Mars/Olympus", "Local", "../../etc/passwd", "Asia Tehran"} {
		err := auth.SetTimezone(ctx, pool, u.ID, bad)
		require.True(t, errs.Is(err, errs.Invalid), "%s: %v", bad, err)
	}
	tz, err = auth.Timezone(ctx, pool, u.ID)
	require.NoError(t, err)
	require.Equal(t, "Asia/Tehran", tz, "a refused zone changes nothing")

	require.NoError(t, auth.SetTimezone(ctx, pool, u.ID, ""))
	tz, err = auth.Timezone(ctx, pool, u.ID)
	require.NoError(t, err)
	require.Empty(t, tz)

	require.True(t, errs.Is(auth.SetTimezone(ctx, pool, 999999, "UTC"), errs.NotFound))
	_, err = auth.Timezone(ctx, pool, 999999)
	require.True(t, errs.Is(err, errs.NotFound))
}
