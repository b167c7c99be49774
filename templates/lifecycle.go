package templates

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
)

// Delete removes template id. One that a campaign's step sends (whatever
// the campaign's status, archived or not) gives an errs.InUse conflict
// naming the campaigns: archive it instead, or change them. An unknown id
// is errs.NotFound.
func Delete(ctx context.Context, db DBTX, id int64) error {
	users, err := Users(ctx, db, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errs.InUse(fmt.Sprintf("template %d", id), users)
	}
	tag, err := db.Exec(ctx, query("delete"), id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" { // a campaign took it since
			users, _ := Users(ctx, db, id)
			return errs.InUse(fmt.Sprintf("template %d", id), users)
		}
		return fmt.Errorf("delete template %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no template %d", id)
	}
	return nil
}

// Users returns the campaigns with a step that sends template id, by id.
func Users(ctx context.Context, db DBTX, id int64) ([]errs.User, error) {
	rows, err := db.Query(ctx, query("users"), id)
	if err != nil {
		return nil, fmt.Errorf("template %d users: %w", id, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[errs.User])
	if err != nil {
		return nil, fmt.Errorf("template %d users: %w", id, err)
	}
	return users, nil
}

// Archive hides (archived true) or shows again (false) a template in
// lists; campaigns that send it keep doing so. errs.NotFound when there is
// no such template.
func Archive(ctx context.Context, db DBTX, id int64, archived bool) (Template, error) {
	t, err := scanTemplate(db.QueryRow(ctx, query("set_archived"), id, archived))
	if errors.Is(err, pgx.ErrNoRows) {
		return Template{}, errs.New(errs.NotFound, "no template %d", id)
	}
	if err != nil {
		return Template{}, fmt.Errorf("archive template %d: %w", id, err)
	}
	return t, nil
}

// ListTotal is how many templates there are, archived ones included only when
// archived is true.
func ListTotal(ctx context.Context, db DBTX, archived bool) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, query("count"), archived).Scan(&n); err != nil {
		return 0, fmt.Errorf("count templates: %w", err)
	}
	return n, nil
}
