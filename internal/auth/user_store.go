package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
)

// DBTX is a pool, a connection or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// User is a person who logs in to the admin UI.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// NormalizeEmail lower-cases and checks an email address; it returns an
// Invalid error on field "email".
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", errs.Field("email", "is not a valid address")
	}
	return s, nil
}

// CreateUser adds a user. It returns Invalid for a bad email, password or
// role, and Conflict when the email is taken.
func CreateUser(ctx context.Context, db DBTX, email, password string, role Role) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword("password", password); err != nil {
		return User{}, err
	}
	if _, err := ParseRole("role", string(role)); err != nil {
		return User{}, err
	}
	u := User{Email: email, Role: role}
	err = db.QueryRow(ctx, query("create_user"), email, hashPassword(password), role).Scan(&u.ID, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, &errs.Error{Code: errs.Conflict, Field: "email", Message: "a user with this email already exists"}
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// ErrBadCredentials is returned by Authenticate for an unknown email or a
// wrong password (the caller cannot tell which).
var ErrBadCredentials = errs.New(errs.Unauthorized, "the email or password is wrong")

// Authenticate returns the user with email and password, or ErrBadCredentials.
func Authenticate(ctx context.Context, db DBTX, email, password string) (User, error) {
	var u User
	var hash string
	err := db.QueryRow(ctx, query("user_for_login"),
		strings.ToLower(strings.TrimSpace(email))).Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		verifyPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if !verifyPassword(hash, password) {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// ListUsers returns every user by email (there are few).
func ListUsers(ctx context.Context, db DBTX) ([]User, error) {
	rows, err := db.Query(ctx, query("list_users"))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		return u, r.Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt)
	})
}

// CountUsers returns how many users exist.
func CountUsers(ctx context.Context, db DBTX) (int, error) {
	var n int
	if err := db.QueryRow(ctx, query("count_users")).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// DeleteUser removes a user, their sessions, and revokes the API tokens
// they created (a person who is gone must not keep access through a
// token). It returns NotFound for an unknown id and Conflict when the user
// is the last admin.
func DeleteUser(ctx context.Context, pool Pool, id int64) error {
	return inTx(ctx, pool, "delete user", func(tx pgx.Tx) error {
		if _, err := lockAdmin(ctx, tx, id, ""); err != nil {
			return err
		}
		if err := revokeTokensOf(ctx, tx, id); err != nil {
			return err
		}
		// Sessions go with the user (ON DELETE CASCADE).
		if _, err := tx.Exec(ctx, query("delete_user"), id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return nil
	})
}
