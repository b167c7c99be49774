package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// TokenPrefix starts every API token, so a leaked one is easy to recognise.
const TokenPrefix = "pyk_"

// Token is an API token's record (never its secret).
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	CreatedBy  *int64     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken makes an API token with role; createdBy is the admin's user id
// (0 from the command line). It returns the record and the secret, which is
// shown once and never stored.
func CreateToken(ctx context.Context, db DBTX, name string, role Role, createdBy int64) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Token{}, "", errs.Field("name", "is required (say what the token is for)")
	}
	if _, err := ParseRole("role", string(role)); err != nil {
		return Token{}, "", err
	}
	var by *int64
	if createdBy != 0 {
		by = &createdBy
	}
	secret := newSecret(TokenPrefix)
	t := Token{Name: name, Role: role, CreatedBy: by}
	err := db.QueryRow(ctx, query("create_token"), name, role, hashSecret(secret), by).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// TokenBySecret returns the live (unrevoked) token whose secret this is, or
// Unauthorized. It records when the token was last used (at most once a
// minute, to spare writes).
func TokenBySecret(ctx context.Context, db DBTX, secret string) (Token, error) {
	var t Token
	err := db.QueryRow(ctx, query("token_by_secret"), hashSecret(secret)).
		Scan(&t.ID, &t.Name, &t.Role, &t.CreatedBy, &t.CreatedAt, &t.LastUsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, errs.New(errs.Unauthorized, "the API token is unknown or revoked")
	}
	if err != nil {
		return Token{}, fmt.Errorf("token: %w", err)
	}
	if t.LastUsedAt == nil || time.Since(*t.LastUsedAt) > time.Minute {
		if _, err := db.Exec(ctx, query("touch_token"), t.ID); err != nil {
			return Token{}, fmt.Errorf("token: %w", err)
		}
	}
	return t, nil
}

// ListTokens returns every token, newest first, revoked ones included.
func ListTokens(ctx context.Context, db DBTX) ([]Token, error) {
	rows, err := db.Query(ctx, query("list_tokens"))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		return t, r.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedBy, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
	})
}

// RevokeToken stops a token working (in this process at once, in others
// within TokenCacheTTL). It returns NotFound for an unknown id; revoking
// twice is not an error.
func RevokeToken(ctx context.Context, db DBTX, id int64) error {
	tag, err := db.Exec(ctx, query("revoke_token"), id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	tokenRevoked()
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "token %d not found", id)
	}
	return nil
}
