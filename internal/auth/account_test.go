package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/migrations/pgtest"
)

func TestChangeAndSetPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	u, err := auth.CreateUser(ctx, pool, "mina@example.com", "first password!", auth.RoleMarketer)
	require.NoError(t, err)
	here, err := auth.CreateSession(ctx, pool, u.ID, time.Hour)
	require.NoError(t, err)
	elsewhere, err := auth.CreateSession(ctx, pool, u.ID, time.Hour)
	require.NoError(t, err)

	err = auth.ChangePassword(ctx, pool, u.ID, "not the password", "second password!", here)
	require.ErrorIs(t, err, auth.ErrWrongPassword)
	err = auth.ChangePassword(ctx, pool, u.ID, "first password!", "short", here)
	require.True(t, errs.Is(err, errs.Invalid), err)
	_, err = auth.SessionUser(ctx, pool, elsewhere)
	require.NoError(t, err, "a refused change ends no session")

	require.NoError(t, auth.ChangePassword(ctx, pool, u.ID, "first password!", "second password!", here))
	_, err = auth.Authenticate(ctx, pool, u.Email, "first password!")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
	_, err = auth.Authenticate(ctx, pool, u.Email, "second password!")
	require.NoError(t, err)
	_, err = auth.SessionUser(ctx, pool, here)
	require.NoError(t, err, "the session that made the change stays")
	_, err = auth.SessionUser(ctx, pool, elsewhere)
	require.True(t, errs.Is(err, errs.Unauthorized), "other sessions end: %v", err)

	// An admin's reset ends every session.
	require.True(t, errs.Is(auth.SetPassword(ctx, pool, u.ID, "short", ""), errs.Invalid))
	require.NoError(t, auth.SetPassword(ctx, pool, u.ID, "third password!", ""))
	_, err = auth.SessionUser(ctx, pool, here)
	require.True(t, errs.Is(err, errs.Unauthorized), err)
	_, err = auth.Authenticate(ctx, pool, u.Email, "third password!")
	require.NoError(t, err)
	require.True(t, errs.Is(auth.SetPassword(ctx, pool, 999999, "third password!", ""), errs.NotFound))

	// The command line's reset.
	got, pw, err := auth.ResetPassword(ctx, pool, " MINA@example.com")
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	require.GreaterOrEqual(t, len(pw), auth.MinPasswordLength)
	_, err = auth.Authenticate(ctx, pool, u.Email, pw)
	require.NoError(t, err)
	_, _, err = auth.ResetPassword(ctx, pool, "nobody@example.com")
	require.True(t, errs.Is(err, errs.NotFound), err)
}

func TestSetRoleKeepsAnAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	a1, err := auth.CreateUser(ctx, pool, "a1@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	m, err := auth.CreateUser(ctx, pool, "m@example.com", "long enough secret", auth.RoleMarketer)
	require.NoError(t, err)

	err = auth.SetRole(ctx, pool, a1.ID, auth.RoleManager)
	require.True(t, errs.Is(err, errs.Conflict), "the last admin stays admin: %v", err)
	require.True(t, errs.Is(auth.SetRole(ctx, pool, m.ID, "king"), errs.Invalid))
	require.True(t, errs.Is(auth.SetRole(ctx, pool, 999999, auth.RoleAdmin), errs.NotFound))
	require.NoError(t, auth.SetRole(ctx, pool, a1.ID, auth.RoleAdmin), "no change is fine")

	require.NoError(t, auth.SetRole(ctx, pool, m.ID, auth.RoleAdmin))
	_, secret, err := auth.CreateToken(ctx, pool, "a1's script", auth.RoleAdmin, a1.ID)
	require.NoError(t, err)
	require.NoError(t, auth.SetRole(ctx, pool, a1.ID, auth.RoleManager), "another admin exists now")
	_, err = auth.TokenBySecret(ctx, pool, secret)
	require.True(t, errs.Is(err, errs.Unauthorized), "a former admin's tokens are revoked: %v", err)
	users, err := auth.ListUsers(ctx, pool)
	require.NoError(t, err)
	roles := map[string]auth.Role{}
	for _, u := range users {
		roles[u.Email] = u.Role
	}
	require.Equal(t, map[string]auth.Role{"a1@example.com": auth.RoleManager, "m@example.com": auth.RoleAdmin}, roles)
	require.True(t, errs.Is(auth.SetRole(ctx, pool, m.ID, auth.RoleMarketer), errs.Conflict))
	require.True(t, errs.Is(auth.DeleteUser(ctx, pool, m.ID), errs.Conflict))
}

func TestDeleteUserRevokesTokensAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := auth.CreateUser(ctx, pool, "root@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	a2, err := auth.CreateUser(ctx, pool, "leaver@example.com", "long enough secret", auth.RoleAdmin)
	require.NoError(t, err)
	_, secret, err := auth.CreateToken(ctx, pool, "leaver's script", auth.RoleMarketer, a2.ID)
	require.NoError(t, err)
	_, other, err := auth.CreateToken(ctx, pool, "cli", auth.RoleMarketer, 0)
	require.NoError(t, err)
	session, err := auth.CreateSession(ctx, pool, a2.ID, time.Hour)
	require.NoError(t, err)

	require.NoError(t, auth.DeleteUser(ctx, pool, a2.ID))
	_, err = auth.TokenBySecret(ctx, pool, secret)
	require.True(t, errs.Is(err, errs.Unauthorized), "the deleted user's token is revoked: %v", err)
	_, err = auth.SessionUser(ctx, pool, session)
	require.True(t, errs.Is(err, errs.Unauthorized), err)
	_, err = auth.TokenBySecret(ctx, pool, other)
	require.NoError(t, err, "other tokens keep working")
	toks, err := auth.ListTokens(ctx, pool)
	require.NoError(t, err)
	require.Len(t, toks, 2, "the revoked token stays listed, as revoked")
}
