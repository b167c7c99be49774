package segments

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
	"github.com/peykar/peykar/internal/sqlq"
)

//go:embed queries.sql
var queriesFS embed.FS

// queries are the package's statements (queries.sql).
var queries = sqlq.MustLoad(queriesFS)

// maxNameLen bounds a segment's name, as a contact's.
const maxNameLen = 500

// Segment is a stored, named segment. Rule is its expr source (the API's
// field name).
type Segment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Rule      string    `json:"rule"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ArchivedAt is when the segment was archived: hidden from lists, still
	// usable by the campaigns that have it.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// SegmentInput is the body of POST and PUT /segments.
type SegmentInput struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

func (in *SegmentInput) validate(ctx context.Context, db DBTX) error {
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
	c, err := CompileSegment(in.Rule)
	if err != nil {
		return err
	}
	return c.CheckCampaigns(ctx, db)
}

func scanSegment(row pgx.Row) (Segment, error) {
	var s Segment
	err := row.Scan(&s.ID, &s.Name, &s.Rule, &s.CreatedAt, &s.UpdatedAt, &s.ArchivedAt)
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
	if err := in.validate(ctx, db); err != nil {
		return Segment{}, err
	}
	return scanSegment(db.QueryRow(ctx, queries.Get("create_segment"), in.Name, in.Rule))
}

// GetSegment returns a segment, or errs.NotFound.
func GetSegment(ctx context.Context, db DBTX, id int64) (Segment, error) {
	return scanSegment(db.QueryRow(ctx, queries.Get("get_segment"), id))
}

// UpdateSegment replaces a segment's name and rule, or gives errs.NotFound.
func UpdateSegment(ctx context.Context, db DBTX, id int64, in SegmentInput) (Segment, error) {
	if err := in.validate(ctx, db); err != nil {
		return Segment{}, err
	}
	return scanSegment(db.QueryRow(ctx, queries.Get("update_segment"), id, in.Name, in.Rule))
}

// DeleteSegment removes a segment. One that campaigns use gives an
// errs.InUse conflict naming them (archive it instead, or change them);
// an unknown one errs.NotFound.
func DeleteSegment(ctx context.Context, db DBTX, id int64) error {
	users, err := Users(ctx, db, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errs.InUse(fmt.Sprintf("segment %d", id), users)
	}
	tag, err := db.Exec(ctx, queries.Get("delete_segment"), id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" { // a campaign took it since
			users, _ := Users(ctx, db, id)
			return errs.InUse(fmt.Sprintf("segment %d", id), users)
		}
		return fmt.Errorf("delete segment: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no such segment")
	}
	return nil
}

// Users returns the campaigns (any status, archived ones too) that use
// segment id, by id.
func Users(ctx context.Context, db DBTX, id int64) ([]errs.User, error) {
	rows, err := db.Query(ctx, queries.Get("segment_users"), id)
	if err != nil {
		return nil, fmt.Errorf("segment %d users: %w", id, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[errs.User])
	if err != nil {
		return nil, fmt.Errorf("segment %d users: %w", id, err)
	}
	return users, nil
}

// ArchiveSegment hides (archived true) or shows again (false) a segment
// in lists; campaigns that use it keep working. errs.NotFound when there
// is no such segment.
func ArchiveSegment(ctx context.Context, db DBTX, id int64, archived bool) (Segment, error) {
	return scanSegment(db.QueryRow(ctx, queries.Get("set_segment_archived"), id, archived))
}

// CountSegments is how many segments there are, archived ones included
// only when archived is true.
func CountSegments(ctx context.Context, db DBTX, archived bool) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, queries.Get("count_segments"), archived).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segments: %w", err)
	}
	return n, nil
}

// ListSegments returns up to limit segments with id > after, in id order,
// archived ones included.
func ListSegments(ctx context.Context, db DBTX, after int64, limit int) ([]Segment, error) {
	return ListSegmentsPage(ctx, db, after, limit, true)
}

// ListSegmentsPage is ListSegments that leaves archived segments out
// unless archived.
func ListSegmentsPage(ctx context.Context, db DBTX, after int64, limit int, archived bool) ([]Segment, error) {
	rows, err := db.Query(ctx, queries.Get("list_segments"), after, limit, archived)
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

// CompileStored loads and compiles a stored segment; errs.NotFound when
// there is none.
func CompileStored(ctx context.Context, db DBTX, id int64) (*Compiled, error) {
	s, err := GetSegment(ctx, db, id)
	if err != nil {
		return nil, err
	}
	return CompileSegment(s.Rule)
}

// Filter is CompileStored as contacts.Deps.Segments takes it, for GET
// /contacts?segment_id=.
func Filter(ctx context.Context, db DBTX, id int64) (contacts.SegmentFilter, error) {
	c, err := CompileStored(ctx, db, id)
	if err != nil {
		return nil, err // never a typed nil inside the interface
	}
	return c, nil
}
