package auth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// SetupPrefix starts every one-time setup token.
const SetupPrefix = "setup_"

// Beginner starts transactions (a *pgxpool.Pool).
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Bootstrap makes sure someone can log in on first run. When users exist it
// does nothing and returns "". Otherwise, with email and password set, it
// creates that admin (another process doing the same at once is fine) and
// returns ""; with them unset it creates a one-time setup token, valid until
// used, and returns it for the caller to print.
func Bootstrap(ctx context.Context, db DBTX, email, password string) (string, error) {
	n, err := CountUsers(ctx, db)
	if err != nil || n > 0 {
		return "", err
	}
	if email != "" || password != "" {
		if _, err := CreateUser(ctx, db, email, password, RoleAdmin); err != nil && !errs.Is(err, errs.Conflict) {
			return "", fmt.Errorf("first admin (PEYKAR_ADMIN_EMAIL, PEYKAR_ADMIN_PASSWORD): %w", err)
		}
		return "", nil
	}
	secret := newSecret(SetupPrefix)
	if _, err := db.Exec(ctx, query("create_setup_token"), hashSecret(secret)); err != nil {
		return "", fmt.Errorf("setup token: %w", err)
	}
	return secret, nil
}

// SetupTokenValid reports whether secret is an unused setup token while no
// user exists yet.
func SetupTokenValid(ctx context.Context, db DBTX, secret string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, query("setup_token_valid"), hashSecret(secret)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("setup token: %w", err)
	}
	return ok, nil
}

// CompleteSetup uses the setup token secret to create the first admin and
// spends every setup token. It returns Unauthorized when the token is
// unknown, used, or a user already exists.
func CompleteSetup(ctx context.Context, pool Beginner, secret, email, password string) (User, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return User{}, fmt.Errorf("setup: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	// Serialise concurrent setups: only one may find no users.
	if _, err := tx.Exec(ctx, query("lock_setup_tokens")); err != nil {
		return User{}, fmt.Errorf("setup: %w", err)
	}
	ok, err := SetupTokenValid(ctx, tx, secret)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errs.New(errs.Unauthorized, "this setup link has been used or is unknown: log in instead")
	}
	u, err := CreateUser(ctx, tx, email, password, RoleAdmin)
	if err != nil {
		return User{}, err
	}
	if _, err := tx.Exec(ctx, query("delete_setup_tokens")); err != nil {
		return User{}, fmt.Errorf("setup: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return User{}, fmt.Errorf("setup: %w", err)
	}
	return u, nil
}
