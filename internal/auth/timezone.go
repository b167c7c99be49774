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

// Timezone returns the user's time zone, an IANA name ("" when they have
// not chosen one). It returns NotFound for an unknown user.
func Timezone(ctx context.Context, db DBTX, userID int64) (string, error) {
	var tz string
	err := db.QueryRow(ctx, query("user_timezone"), userID).Scan(&tz)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.New(errs.NotFound, "user %d not found", userID)
	}
	if err != nil {
		return "", fmt.Errorf("user time zone: %w", err)
	}
	return tz, nil
}

// SetTimezone sets the user's time zone to the IANA name tz ("" clears
// it). It returns Invalid on field "timezone" for a name the time zone
// database does not know, or NotFound.
func SetTimezone(ctx context.Context, db DBTX, userID int64, tz string) error {
	tz = strings.TrimSpace(tz)
	var v *string
	if tz != "" {
		if _, err := LoadZone(tz); err != nil {
			return err
		}
		v = &tz
	}
	tag, err := db.Exec(ctx, query("set_user_timezone"), userID, v)
	if err != nil {
		return fmt.Errorf("set time zone: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "user %d not found", userID)
	}
	return nil
}

// LoadZone loads the IANA zone name, refusing "Local" (the server's zone,
// which means nothing to the user) and names the zone database lacks with
// Invalid on field "timezone".
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.ContainsAny(name, " \\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, errs.Field("timezone", "%q is not a time zone", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errs.Field("timezone", "%q is not a time zone", name)
	}
	return loc, nil
}
