package topics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Length limits of a topic's texts.
const (
	maxNameLen        = 200
	maxDescriptionLen = 2000
)

// Topic is a subscription list. Counts are filled by List only.
type Topic struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Public topics are offered on preference pages and signup forms;
	// private ones are managed by the marketer only.
	Public bool `json:"public"`
	// ArchivedAt: hidden from lists and pages; subscriptions and history
	// are kept.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Counts     *Counts    `json:"subscribers,omitempty"`
}

// Counts are a topic's members per status.
type Counts struct {
	Subscribed   int64 `json:"subscribed"`
	Pending      int64 `json:"pending"`
	Unsubscribed int64 `json:"unsubscribed"`
}

// Input is the body of POST /topics; in PATCH /topics/{id} a field left
// out (nil) keeps its value.
type Input struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Public      *bool   `json:"public"`
}

// apply merges in onto t and validates the result.
func (in Input) apply(t *Topic) error {
	if in.Name != nil {
		t.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		t.Description = strings.TrimSpace(*in.Description)
	}
	if in.Public != nil {
		t.Public = *in.Public
	}
	if t.Name == "" || len(t.Name) > maxNameLen {
		return errs.Field("name", "is required (at most %d bytes)", maxNameLen)
	}
	if err := safetext.Text("name", t.Name); err != nil {
		return err
	}
	if len(t.Description) > maxDescriptionLen {
		return errs.Field("description", "is too long (at most %d bytes)", maxDescriptionLen)
	}
	return safetext.Text("description", t.Description)
}

func scanTopic(row pgx.Row) (Topic, error) {
	var t Topic
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Public, &t.ArchivedAt, &t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errs.New(errs.NotFound, "no such topic")
	}
	if err != nil {
		return t, fmt.Errorf("scan topic: %w", err)
	}
	return t, nil
}

// nameTaken turns a unique violation of the live-name index into a
// conflict naming the field.
func nameTaken(err error, name string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		e := errs.New(errs.Conflict, "a topic named %q already exists", name)
		e.Field = "name"
		return e
	}
	return err
}

// Create validates and stores a topic. A live topic with the same name
// (case-insensitive) gives errs.Conflict.
func Create(ctx context.Context, db DBTX, in Input) (Topic, error) {
	var t Topic
	if err := in.apply(&t); err != nil {
		return Topic{}, err
	}
	t, err := scanTopic(db.QueryRow(ctx, queries.Get("create_topic"), t.Name, t.Description, t.Public))
	return t, nameTaken(err, t.Name)
}

// Get returns a topic, or errs.NotFound.
func Get(ctx context.Context, db DBTX, id int64) (Topic, error) {
	return scanTopic(db.QueryRow(ctx, queries.Get("get_topic"), id))
}

// Update changes the fields in gives, or gives errs.NotFound.
func Update(ctx context.Context, db DBTX, id int64, in Input) (Topic, error) {
	t, err := Get(ctx, db, id)
	if err != nil {
		return Topic{}, err
	}
	if err := in.apply(&t); err != nil {
		return Topic{}, err
	}
	t, err = scanTopic(db.QueryRow(ctx, queries.Get("update_topic"), id, t.Name, t.Description, t.Public))
	return t, nameTaken(err, t.Name)
}

// Archive hides (true) or shows again (false) a topic; errs.NotFound when
// there is none. Unarchiving gives errs.Conflict when a live topic took
// its name meanwhile.
func Archive(ctx context.Context, db DBTX, id int64, archived bool) (Topic, error) {
	t, err := scanTopic(db.QueryRow(ctx, queries.Get("set_topic_archived"), id, archived))
	return t, nameTaken(err, t.Name)
}

// Delete removes a topic created by mistake. One that campaigns target
// gives an errs.InUse conflict naming them; one that has subscribers or
// consent history gives errs.Conflict (archive it: consent history is
// kept); an unknown one errs.NotFound.
func Delete(ctx context.Context, db DBTX, id int64) error {
	users, err := Users(ctx, db, id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errs.InUse(fmt.Sprintf("topic %d", id), users)
	}
	tag, err := db.Exec(ctx, queries.Get("delete_topic"), id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return errs.New(errs.Conflict, "topic %d has subscribers and consent history: archive it instead", id)
		}
		return fmt.Errorf("delete topic: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errs.New(errs.NotFound, "no such topic")
	}
	return nil
}

// Users returns the campaigns (any status, archived too) that target
// topic id, by id.
func Users(ctx context.Context, db DBTX, id int64) ([]errs.User, error) {
	rows, err := db.Query(ctx, queries.Get("topic_users"), id)
	if err != nil {
		return nil, fmt.Errorf("topic %d users: %w", id, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[errs.User])
	if err != nil {
		return nil, fmt.Errorf("topic %d users: %w", id, err)
	}
	return users, nil
}

// List returns the topics by name with their member counts: public ones
// only when publicOnly (preference pages, forms), archived ones only when
// archived.
func List(ctx context.Context, db DBTX, publicOnly, archived bool) ([]Topic, error) {
	rows, err := db.Query(ctx, queries.Get("list_topics"), publicOnly, archived)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Topic, error) {
		var t Topic
		c := new(Counts)
		err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Public, &t.ArchivedAt, &t.CreatedAt, &t.UpdatedAt,
			&c.Subscribed, &c.Pending, &c.Unsubscribed)
		t.Counts = c
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return out, nil
}

// ByIDs returns the topics with these ids, by id; an id with no topic
// gives errs.Invalid on field naming it, so a campaign's or a form's
// validation can say which.
func ByIDs(ctx context.Context, db DBTX, field string, ids []int64) ([]Topic, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, queries.Get("topics_by_id"), ids)
	if err != nil {
		return nil, fmt.Errorf("topics by id: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Topic, error) { return scanTopic(row) })
	if err != nil {
		return nil, fmt.Errorf("topics by id: %w", err)
	}
	have := make(map[int64]bool, len(found))
	for _, t := range found {
		have[t.ID] = true
	}
	for _, id := range ids {
		if !have[id] {
			return nil, errs.Field(field, "no topic with id %d", id)
		}
	}
	return found, nil
}

// ByNames resolves live topic names (case-insensitive) to topics; a name
// with no live topic gives errs.Invalid on field naming it (an import
// refuses that line: topics are created first, by a marketer).
func ByNames(ctx context.Context, db DBTX, field string, names []string) ([]Topic, error) {
	if len(names) == 0 {
		return nil, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = strings.ToLower(strings.TrimSpace(n))
	}
	rows, err := db.Query(ctx, queries.Get("topics_by_name"), keys)
	if err != nil {
		return nil, fmt.Errorf("topics by name: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Topic, error) { return scanTopic(row) })
	if err != nil {
		return nil, fmt.Errorf("topics by name: %w", err)
	}
	byKey := make(map[string]Topic, len(found))
	for _, t := range found {
		byKey[strings.ToLower(t.Name)] = t
	}
	out := make([]Topic, 0, len(keys))
	for i, k := range keys {
		t, ok := byKey[k]
		if !ok {
			return nil, errs.Field(field, "no topic named %q", strings.TrimSpace(names[i]))
		}
		out = append(out, t)
	}
	return out, nil
}
