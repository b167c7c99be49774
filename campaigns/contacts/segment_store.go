package contacts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Segment is a stored, named rule.
type Segment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Rule      string    `json:"rule"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SegmentInput is the body of POST and PUT /segments.
type SegmentInput struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

func (in *SegmentInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > maxNameLen {
		return errs.Field("name", "is required (at most %d bytes)", maxNameLen)
	}
	if err := safetext.Text("name", in.Name); err != nil {
		return err
	}
	if err := safetext.Text("rule", in.Rule); err != nil {
		return err
	}
	_, err := CompileRule(in.Rule)
	return err
}

const segmentColumns = `id, name, rule, created_at, updated_at`

func scanSegment(row pgx.Row) (Segment, error) {
	var s Segment
	err := row.Scan(&s.ID, &s.Name, &s.Rule, &s.CreatedAt, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errs.New(errs.NotFound, "no such segment")
	}
	if err != nil {
		return s, fmt.Errorf("scan segment: %w", err)
	}
	return s, nil
}

// CreateSegment validates (compiles) and stores a segment.
func CreateSegment(ctx context.Context, db DBTX, in SegmentInput) (Segment, error) {
	if err := in.validate(); err != nil {
		return Segment{}, err
	}
	return scanSegment(db.QueryRow(ctx, `INSERT INTO segments (name, rule) VALUES ($1, $2) RETURNING `+segmentColumns, in.Name, in.Rule))
}

// GetSegment returns a segment, or errs.NotFound.
func GetSegment(ctx context.Context, db DBTX, id int64) (Segment, error) {
	return scanSegment(db.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = $1`, id))
}

// UpdateSegment replaces a segment's name and rule, or gives errs.NotFound.
func UpdateSegment(ctx context.Context, db DBTX, id int64, in SegmentInput) (Segment, error) {
	if err := in.validate(); err != nil {
		return Segment{}, err
	}
	return scanSegment(db.QueryRow(ctx, `UPDATE segments SET name = $2, rule = $3, updated_at = now() WHERE id = $1
		RETURNING `+segmentColumns, id, in.Name, in.Rule))
}

// DeleteSegment removes a segment. One that a campaign uses gives
// errs.Conflict; an unknown one errs.NotFound.
func DeleteSegment(ctx context.Context, db DBTX, id int64) error {
	tag, err := db.Exec(ctx, `DELETE FROM segments WHERE id = $1`, id)
	if err != nil {
		var code string
		if pe := pgErrCode(err); pe != "" {
			code = pe
		}
		if code == "23503" {
			return errs.New(errs.Conflict, "the segment is used by a campaign")
		}
		return fmt.Errorf("delete segment: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no such segment")
	}
	return nil
}

// ListSegments returns up to limit segments with id > after, in id order.
func ListSegments(ctx context.Context, db DBTX, after int64, limit int) ([]Segment, error) {
	rows, err := db.Query(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CompileSegment loads and compiles a stored segment.
func CompileSegment(ctx context.Context, db DBTX, id int64) (*Compiled, error) {
	s, err := GetSegment(ctx, db, id)
	if err != nil {
		return nil, err
	}
	return CompileRule(s.Rule)
}
