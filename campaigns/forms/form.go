package forms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// Limits of a form's definition.
const (
	maxNameLen     = 200
	maxMessageLen  = 1000
	maxURLLen      = 2000
	maxFields      = 10
	maxTopics      = 20
	attrPrefix     = "attr."
	fieldEmail     = "email"
	fieldName      = "name"
	defaultLang    = "en"
	languagePersia = "fa"
)

var attrKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Form is a signup form. Stats are its numbers (docs/metrics.md, "Forms").
type Form struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Fields      []string `json:"fields"`
	TopicIDs    []int64  `json:"topic_ids"`
	DoubleOptIn bool     `json:"double_opt_in"`
	// RedirectURL is where a submit goes (303); nil shows the thank-you
	// page with Message.
	RedirectURL *string   `json:"redirect_url"`
	Message     string    `json:"message"`
	Language    string    `json:"language"`
	Stats       Stats     `json:"stats"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// PublicURL (the hosted page) and EmbedHTML (the snippet) are filled by
	// the API and the admin pages from the server's base URL.
	PublicURL string `json:"public_url,omitempty"`
	EmbedHTML string `json:"embed_html,omitempty"`
}

// Stats are a form's counters and the rates computed from them.
type Stats struct {
	Views         int64 `json:"views"`
	Submissions   int64 `json:"submissions"`
	Confirmations int64 `json:"confirmations"`
	Rejected      int64 `json:"rejected"`
	// SubmissionRate is submissions / views; ConfirmationRate is
	// confirmations / submissions (0 when the denominator is 0).
	SubmissionRate   float64 `json:"submission_rate"`
	ConfirmationRate float64 `json:"confirmation_rate"`
}

func (s *Stats) rates() {
	s.SubmissionRate, s.ConfirmationRate = 0, 0
	if s.Views > 0 {
		s.SubmissionRate = float64(s.Submissions) / float64(s.Views)
	}
	if s.Submissions > 0 {
		s.ConfirmationRate = float64(s.Confirmations) / float64(s.Submissions)
	}
}

// AttrFields are the contact attributes a form asks for (fields "attr.x").
func (f Form) AttrFields() []string {
	var out []string
	for _, fl := range f.Fields {
		if k, ok := strings.CutPrefix(fl, attrPrefix); ok {
			out = append(out, k)
		}
	}
	return out
}

// HasName reports whether the form asks for a name.
func (f Form) HasName() bool { return slices.Contains(f.Fields, fieldName) }

// Input is the body of POST /forms; PATCH /forms/{id} applies its body
// onto the form's current Input, so a field left out keeps its value.
type Input struct {
	Name   string   `json:"name"`
	Fields []string `json:"fields"`
	// TopicIDs are the topics offered: checkboxes when several, implicit
	// when one.
	TopicIDs []int64 `json:"topic_ids"`
	// DoubleOptIn defaults to true.
	DoubleOptIn *bool   `json:"double_opt_in"`
	RedirectURL *string `json:"redirect_url"`
	Message     string  `json:"message"`
	// Language of the hosted page and the confirmation mail: en (default)
	// or fa.
	Language string `json:"language"`
}

// InputOf returns the form's definition as an Input.
func InputOf(f Form) Input {
	doi := f.DoubleOptIn
	return Input{Name: f.Name, Fields: slices.Clone(f.Fields), TopicIDs: slices.Clone(f.TopicIDs), DoubleOptIn: &doi,
		RedirectURL: f.RedirectURL, Message: f.Message, Language: f.Language}
}

// normalize validates in against the topics in db and puts it in normal
// form; every problem is reported, each on its field.
func (in *Input) normalize(ctx context.Context, db DBTX) error {
	var list []*errs.Error
	add := func(err error) {
		var e *errs.Error
		if errors.As(err, &e) {
			list = append(list, e)
		}
	}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		add(errs.Field("name", "is required"))
	case utf8.RuneCountInString(in.Name) > maxNameLen:
		add(errs.Field("name", "must be at most %d characters", maxNameLen))
	default:
		add(safetext.Line("name", in.Name))
	}
	fields, err := normalizeFields(in.Fields)
	add(err)
	in.Fields = fields
	if in.DoubleOptIn == nil {
		t := true
		in.DoubleOptIn = &t
	}
	u, err := normalizeRedirect(in.RedirectURL)
	add(err)
	in.RedirectURL = u
	in.Message = strings.TrimSpace(in.Message)
	if utf8.RuneCountInString(in.Message) > maxMessageLen {
		add(errs.Field("message", "must be at most %d characters", maxMessageLen))
	} else {
		add(safetext.Text("message", in.Message))
	}
	switch in.Language {
	case "":
		in.Language = defaultLang
	case defaultLang, languagePersia:
	default:
		add(errs.Field("language", "must be en or fa"))
	}
	in.TopicIDs = compactIDs(in.TopicIDs)
	if len(in.TopicIDs) > maxTopics {
		add(errs.Field("topic_ids", "at most %d topics", maxTopics))
	} else if ts, err := topics.ByIDs(ctx, db, "topic_ids", in.TopicIDs); err != nil {
		if errs.CodeOf(err) == errs.Internal {
			return err
		}
		add(err)
	} else {
		for _, t := range ts {
			if t.ArchivedAt != nil {
				add(errs.Field("topic_ids", "topic %d is archived", t.ID))
			}
		}
	}
	return errs.Collect(list)
}

// normalizeFields keeps email first (always asked), then name and the
// attributes in the order given, without duplicates.
func normalizeFields(in []string) ([]string, error) {
	out := []string{fieldEmail}
	for _, f := range in {
		f = strings.TrimSpace(f)
		switch {
		case f == fieldEmail || slices.Contains(out, f):
			continue
		case f == fieldName:
		case strings.HasPrefix(f, attrPrefix) && attrKey.MatchString(f[len(attrPrefix):]):
		default:
			return []string{fieldEmail}, errs.Field("fields", "%q is not a field: use email, name or attr.<key> (lower-case letters, digits, _)", f)
		}
		out = append(out, f)
	}
	if len(out) > maxFields {
		return out[:maxFields], errs.Field("fields", "at most %d fields", maxFields)
	}
	return out, nil
}

// normalizeRedirect accepts nil, "" (none) or an absolute http(s) URL
// without credentials.
func normalizeRedirect(p *string) (*string, error) {
	if p == nil || strings.TrimSpace(*p) == "" {
		return nil, nil
	}
	s := strings.TrimSpace(*p)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		len(s) > maxURLLen || safetext.Line("redirect_url", s) != nil {
		return nil, errs.Field("redirect_url", "must be an http or https address such as https://shop.example/thanks")
	}
	return &s, nil
}

func compactIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func scanForm(row pgx.Row) (Form, error) {
	var f Form
	err := row.Scan(&f.ID, &f.Name, &f.Fields, &f.TopicIDs, &f.DoubleOptIn, &f.RedirectURL, &f.Message, &f.Language,
		&f.Stats.Views, &f.Stats.Submissions, &f.Stats.Confirmations, &f.Stats.Rejected, &f.CreatedAt, &f.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Form{}, errs.New(errs.NotFound, "no such form")
	}
	if err != nil {
		return Form{}, fmt.Errorf("scan form: %w", err)
	}
	f.Stats.rates()
	return f, nil
}

// Create validates in and stores a new form.
func Create(ctx context.Context, db DBTX, in Input) (Form, error) {
	if err := in.normalize(ctx, db); err != nil {
		return Form{}, err
	}
	return scanForm(db.QueryRow(ctx, queries.Get("create_form"),
		in.Name, in.Fields, in.TopicIDs, *in.DoubleOptIn, in.RedirectURL, in.Message, in.Language))
}

// Get returns a form, or errs.NotFound.
func Get(ctx context.Context, db DBTX, id int64) (Form, error) {
	return scanForm(db.QueryRow(ctx, queries.Get("get_form"), id))
}

// Update replaces a form's definition with in (validated); its numbers stay.
func Update(ctx context.Context, db DBTX, id int64, in Input) (Form, error) {
	if err := in.normalize(ctx, db); err != nil {
		return Form{}, err
	}
	return scanForm(db.QueryRow(ctx, queries.Get("update_form"),
		id, in.Name, in.Fields, in.TopicIDs, *in.DoubleOptIn, in.RedirectURL, in.Message, in.Language))
}

// Patch applies a JSON body (a subset of Input's fields) onto the form's
// definition and saves it.
func Patch(ctx context.Context, db DBTX, id int64, body []byte) (Form, error) {
	f, err := Get(ctx, db, id)
	if err != nil {
		return Form{}, err
	}
	in := InputOf(f)
	if err := json.Unmarshal(body, &in); err != nil {
		return Form{}, errs.New(errs.Invalid, "invalid JSON: %v", err)
	}
	return Update(ctx, db, id, in)
}

// Delete removes a form with its signups and numbers; errs.NotFound when
// there is none.
func Delete(ctx context.Context, db DBTX, id int64) error {
	var got int64
	err := db.QueryRow(ctx, queries.Get("delete_form"), id).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.New(errs.NotFound, "no such form")
	}
	if err != nil {
		return fmt.Errorf("delete form %d: %w", id, err)
	}
	return nil
}

// MaxList bounds one page of List.
const MaxList = 200

// List returns forms newest first: after is the id of the last form of the
// previous page (0: from the newest).
func List(ctx context.Context, db DBTX, after int64, limit int) ([]Form, error) {
	if limit <= 0 || limit > MaxList {
		limit = MaxList
	}
	rows, err := db.Query(ctx, queries.Get("list_forms"), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list forms: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Form, error) { return scanForm(row) })
	if err != nil {
		return nil, fmt.Errorf("list forms: %w", err)
	}
	return out, nil
}

// Event kinds of form_events, each with its counter on forms.
const (
	EventView         = "view"
	EventSubmission   = "submission"
	EventConfirmation = "confirmation"
	EventRejected     = "rejected"
)

// countEvent appends a form_events row of kind and bumps its counter.
func countEvent(ctx context.Context, db DBTX, formID int64, kind string, signupID *int64, at time.Time) error {
	var id int64
	err := db.QueryRow(ctx, queries.Get("count_event"), formID, kind, signupID, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.New(errs.NotFound, "no such form")
	}
	if err != nil {
		return fmt.Errorf("count form %d %s: %w", formID, kind, err)
	}
	return nil
}

// RawCounts returns the form_events rows per kind as Stats (without
// rates): what the counters must equal.
func RawCounts(ctx context.Context, db DBTX, formID int64) (Stats, error) {
	var s Stats
	err := db.QueryRow(ctx, queries.Get("raw_counts"), formID).Scan(&s.Views, &s.Submissions, &s.Confirmations, &s.Rejected)
	if err != nil {
		return Stats{}, fmt.Errorf("raw counts of form %d: %w", formID, err)
	}
	return s, nil
}

// strictJSON decodes body into v refusing unknown fields.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.New(errs.Invalid, "invalid JSON: %v", err)
	}
	return nil
}
