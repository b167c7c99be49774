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
	_, err := db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval)`,
		hashSecret(secret), userID, ttl.String())
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return secret, nil
}

// SessionUser returns the user of a live session, or Unauthorized.
func SessionUser(ctx context.Context, db DBTX, secret string) (User, error) {
	var u User
	err := db.QueryRow(ctx, `SELECT u.id, u.email, u.role, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now()`, hashSecret(secret)).Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt)
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
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1 OR expires_at < now()`, hashSecret(secret))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
