package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// CreateSession starts a login session for userID lasting ttl and returns
// its secret (for the cookie); the database keeps only its hash.
func CreateSession(ctx context.Context, db DBTX, userID int64, ttl time.Duration) (string, error) {
	secret := newSecret("")
	_, err := db.Exec(ctx, query("create_session"),
		hashSecret(secret), userID, ttl.String())
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return secret, nil
}

// SessionUser returns the user of a live session, or Unauthorized.
func SessionUser(ctx context.Context, db DBTX, secret string) (User, error) {
	var u User
	err := db.QueryRow(ctx, query("session_user"), hashSecret(secret)).Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errs.New(errs.Unauthorized, "the session has ended: log in again")
	}
	if err != nil {
		return User{}, fmt.Errorf("session: %w", err)
	}
	return u, nil
}

// DeleteSession ends a session (logout) and, while at it, removes expired ones.
func DeleteSession(ctx context.Context, db DBTX, secret string) error {
	_, err := db.Exec(ctx, query("delete_session"), hashSecret(secret))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
