package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// ErrWrongPassword answers a password change whose current password is
// wrong (on field "current_password").
var ErrWrongPassword = errs.Field("current_password", "is wrong")

// ChangePassword sets a signed-in user's own password after checking the
// current one, and ends every other session of theirs (keepSession is the
// secret of the session making the change, "" to end them all). It returns
// ErrWrongPassword, Invalid on field "new_password" for a weak password,
// or NotFound.
func ChangePassword(ctx context.Context, db DBTX, userID int64, current, next, keepSession string) error {
	var hash string
	err := db.QueryRow(ctx, query("password_hash_by_id"), userID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.New(errs.NotFound, "user %d not found", userID)
	}
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !verifyPassword(hash, current) {
		return ErrWrongPassword
	}
	if err := CheckPassword("new_password", next); err != nil {
		return err
	}
	return setPassword(ctx, db, userID, next, keepSession)
}

// SetPassword gives a user a new password (an admin's reset) and ends all
// their sessions but keepSession ("" for all). It returns Invalid on field
// "password" for a weak password, or NotFound.
func SetPassword(ctx context.Context, db DBTX, userID int64, password, keepSession string) error {
	if err := CheckPassword("password", password); err != nil {
		return err
	}
	return setPassword(ctx, db, userID, password, keepSession)
}

// ResetPassword gives the user with email a new random password, ends all
// their sessions and returns the password (the command-line escape hatch
// for a forgotten admin password). It returns NotFound for an unknown email.
func ResetPassword(ctx context.Context, db DBTX, email string) (User, string, error) {
	var u User
	err := db.QueryRow(ctx, query("user_by_email"),
		strings.ToLower(strings.TrimSpace(email))).Scan(&u.ID, &u.Email, &u.Role, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", errs.New(errs.NotFound, "no user has the email %q", email)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("reset password: %w", err)
	}
	pw := newSecret("")[:24] // 144 random bits, URL-safe
	return u, pw, setPassword(ctx, db, u.ID, pw, "")
}

func setPassword(ctx context.Context, db DBTX, userID int64, password, keepSession string) error {
	tag, err := db.Exec(ctx, query("set_password"), userID, hashPassword(password))
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "user %d not found", userID)
	}
	keep := []byte{}
	if keepSession != "" {
		keep = hashSecret(keepSession)
	}
	if _, err := db.Exec(ctx, query("end_other_sessions"), userID, keep); err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	return nil
}

// SetRole changes a user's role. A user who stops being an admin also loses
// the API tokens they created (they could no longer create them). It
// returns Invalid for an unknown role, NotFound, or Conflict when it would
// leave no admin.
func SetRole(ctx context.Context, pool Pool, id int64, role Role) error {
	if _, err := ParseRole("role", string(role)); err != nil {
		return err
	}
	return inTx(ctx, pool, "set role", func(tx pgx.Tx) error {
		old, err := lockAdmin(ctx, tx, id, role)
		if err != nil || old == role {
			return err
		}
		if _, err := tx.Exec(ctx, query("set_role"), id, role); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		if old == RoleAdmin {
			return revokeTokensOf(ctx, tx, id)
		}
		return nil
	})
}

// lockAdmin locks the admins' rows (so two changes cannot each leave the
// other as the last admin) and returns user id's role. It returns NotFound,
// or Conflict when id is the last admin and is to become next (a role, or ""
// for deletion) that is not admin.
func lockAdmin(ctx context.Context, tx pgx.Tx, id int64, next Role) (Role, error) {
	rows, err := tx.Query(ctx, query("lock_admins"))
	if err != nil {
		return "", fmt.Errorf("lock admins: %w", err)
	}
	admins, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return "", fmt.Errorf("lock admins: %w", err)
	}
	var role Role
	err = tx.QueryRow(ctx, query("lock_user_role"), id).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.New(errs.NotFound, "user %d not found", id)
	}
	if err != nil {
		return "", fmt.Errorf("user %d: %w", id, err)
	}
	if role == RoleAdmin && next != RoleAdmin && len(admins) <= 1 {
		if next == "" {
			return "", errs.New(errs.Conflict, "the last admin cannot be deleted: make another user admin first")
		}
		return "", &errs.Error{Code: errs.Conflict, Field: "role", Message: "the last admin cannot stop being admin: make another user admin first"}
	}
	return role, nil
}

// revokeTokensOf revokes the live API tokens userID created.
func revokeTokensOf(ctx context.Context, db DBTX, userID int64) error {
	if _, err := db.Exec(ctx, query("revoke_tokens_of"), userID); err != nil {
		return fmt.Errorf("revoke the user's tokens: %w", err)
	}
	tokenRevoked()
	return nil
}

// inTx runs f in a transaction of pool.
func inTx(ctx context.Context, pool Pool, what string, f func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
