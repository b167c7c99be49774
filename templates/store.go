package templates

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/sqlq"
)

// MaxNameLen is the longest template name, in characters.
const MaxNameLen = 200

// DBTX is what the store needs: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx,
// so one transaction can span packages.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

//go:embed queries.sql
var queriesFS embed.FS

// queries are the package's statements on the templates table (queries.sql).
var queries = sqlq.MustLoad(queriesFS)

func query(name string) string { return queries.Get(name) }

func scanTemplate(row pgx.Row) (Template, error) {
	var t Template
	err := row.Scan(&t.ID, &t.Name, &t.Subject, &t.HTML, &t.Text, &t.Design, &t.Transactional, &t.CreatedAt, &t.UpdatedAt, &t.ArchivedAt)
	return t, err
}

// Get loads template id. It returns an errs.NotFound error when there is none.
func Get(ctx context.Context, db DBTX, id int64) (Template, error) {
	t, err := scanTemplate(db.QueryRow(ctx, query("get"), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Template{}, errs.New(errs.NotFound, "no template %d", id)
	}
	if err != nil {
		return Template{}, fmt.Errorf("get template %d: %w", id, err)
	}
	return t, nil
}

// List returns up to limit templates with an id above after, by id,
// archived ones included.
func List(ctx context.Context, db DBTX, after int64, limit int) ([]Template, error) {
	return ListPage(ctx, db, after, limit, true)
}

// ListPage is List that leaves archived templates out unless archived.
func ListPage(ctx context.Context, db DBTX, after int64, limit int, archived bool) ([]Template, error) {
	rows, err := db.Query(ctx, query("list"), after, limit, archived)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Template, error) { return scanTemplate(r) })
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	return out, nil
}

// Create validates t (see Compile) and stores it. Validation failures are
// errs.Invalid errors naming the field, line and column.
func Create(ctx context.Context, db DBTX, t Template) (Template, error) {
	if err := Validate(t); err != nil {
		return Template{}, err
	}
	out, err := scanTemplate(db.QueryRow(ctx, query("create"), t.Name, t.Subject, t.HTML, t.Text, t.Design, t.Transactional))
	if err != nil {
		return Template{}, fmt.Errorf("create template: %w", err)
	}
	return out, nil
}

// Update validates t and replaces template t.ID with it. It returns an
// errs.NotFound error when there is no such template and an errs.Conflict
// error naming the campaigns when a running campaign sends it (pause them
// first, or save a copy as a new template); a failed validation changes
// nothing.
func Update(ctx context.Context, db DBTX, t Template) (Template, error) {
	if err := Validate(t); err != nil {
		return Template{}, err
	}
	// Two attempts: a campaign may pause or finish between the update that
	// found it running and the query that looks for it.
	for attempt := 0; ; attempt++ {
		out, err := scanTemplate(db.QueryRow(ctx, query("update"), t.ID, t.Name, t.Subject, t.HTML, t.Text, t.Design, t.Transactional))
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Template{}, fmt.Errorf("update template %d: %w", t.ID, err)
		}
		var exists bool
		var running []string
		if err := db.QueryRow(ctx, query("running_users"), t.ID).Scan(&exists, &running); err != nil {
			return Template{}, fmt.Errorf("update template %d: %w", t.ID, err)
		}
		switch {
		case !exists:
			return Template{}, errs.New(errs.NotFound, "no template %d", t.ID)
		case len(running) > 0 || attempt == 1:
			return Template{}, errs.New(errs.Conflict,
				"template %d is being sent by running campaign %s: pause it before editing, or save a copy as a new template",
				t.ID, strings.Join(running, ", "))
		}
	}
}

// Validate checks a template before it is saved: a name, and sources that
// compile (see Compile).
func Validate(t Template) error {
	name := strings.TrimSpace(t.Name)
	switch {
	case name == "":
		return errs.Field("name", "is required")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return errs.Field("name", "is longer than %d characters", MaxNameLen)
	case !utf8.ValidString(name):
		return errs.Field("name", "is not valid UTF-8")
	}
	if len(t.Design) > MaxDesignLen {
		return errs.Field("design", "is larger than %d bytes", MaxDesignLen)
	}
	if len(t.Design) > 0 && !json.Valid(t.Design) {
		return errs.Field("design", "is not valid JSON")
	}
	if err := CheckDesign(t.Design); err != nil {
		return err
	}
	_, err := Compile(t)
	return err
}

// MaxDesignLen bounds the visual editor's stored document.
const MaxDesignLen = 4 << 20

// normDesign turns an absent or JSON null design into nil (no design).
func normDesign(d json.RawMessage) json.RawMessage {
	if s := strings.TrimSpace(string(d)); s == "" || s == "null" {
		return nil
	}
	return d
}
