package contacts

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/peykar/peykar/campaigns/timing"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// maxImportColumns bounds the header.
const maxImportColumns = 500

// Rejection is a CSV line that was not imported, and why.
type Rejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Duplicate is a CSV line whose address appeared on an earlier line: its
// values were merged into that contact.
type Duplicate struct {
	Line      int `json:"line"`
	FirstLine int `json:"first_line"`
}

// importRow is one valid data line.
type importRow struct {
	line    int
	email   string // normalised
	key     string // dedup key, lower-cased address
	name    string
	tags    []string
	consent string // "" when the file has none
	attrs   map[string]any
	topics  []int64 // the topics column's topics, by id
}

// column roles.
const (
	colAttr = iota
	colEmail
	colName
	colTags
	colConsent
	colTopics
)

// headerRoles maps the recognised header names (lower-cased) to roles;
// any other column is an attribute named as in the header.
var headerRoles = map[string]int{
	"email": colEmail, "e-mail": colEmail, "email_address": colEmail, "email address": colEmail,
	"name": colName, "tags": colTags, "consent_source": colConsent, "topics": colTopics,
}

// csvParser reads contacts from a CSV stream with a header line.
type csvParser struct {
	r     *csv.Reader
	roles []int
	names []string
	opts  ImportOptions
	// topicIDs are the live topics by lower-cased name, loaded when the
	// header has a topics column (hasTopics).
	topicIDs map[string]int64
}

// newCSVParser reads the header. A header without an email column, with
// an empty or repeated name, or that is not valid CSV or UTF-8, gives
// errs.Invalid: nothing can be imported. opts (with their defaults
// filled) say the file's delimiter and how tags are separated.
func newCSVParser(r io.Reader, opts ImportOptions) (*csvParser, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.Comma = delimiters[opts.Delimiter]
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errs.Field("file", "is empty: a header line naming the columns (at least email) is required")
	}
	if err != nil {
		return nil, errs.Field("file", "line 1: the header is not valid CSV: %s", csvReason(err))
	}
	if len(header) > maxImportColumns {
		return nil, errs.Field("file", "line 1: more than %d columns", maxImportColumns)
	}
	p := &csvParser{r: cr, roles: make([]int, len(header)), names: make([]string, len(header)), opts: opts}
	seen := map[string]int{}
	email := false
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			return nil, errs.Field("file", "line 1: column %d: the header is not valid UTF-8", i+1)
		}
		if safetext.HasNUL(h) {
			return nil, errs.Field("file", "line 1: column %d: the header contains a NUL byte", i+1)
		}
		if h == "" {
			return nil, errs.Field("file", "line 1: column %d has no name", i+1)
		}
		low := strings.ToLower(h)
		if j, dup := seen[low]; dup {
			return nil, errs.Field("file", "line 1: columns %d and %d have the same name %q", j+1, i+1, h)
		}
		seen[low] = i
		p.roles[i] = headerRoles[low]
		p.names[i] = h
		if p.roles[i] == colEmail {
			if email {
				return nil, errs.Field("file", "line 1: more than one email column")
			}
			email = true
		}
	}
	if !email {
		return nil, errs.Field("file", "line 1: no email column in the header %q", strings.Join(p.names, ","))
	}
	cr.FieldsPerRecord = len(header)
	return p, nil
}

// next returns the next data line: a row, or a rejection of that line.
// It returns io.EOF at the end and another error only when the stream
// itself fails.
func (p *csvParser) next() (importRow, *Rejection, error) {
	rec, err := p.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return importRow{}, &Rejection{Line: pe.StartLine, Reason: csvReason(err)}, nil
		}
		return importRow{}, nil, err // io.EOF or a read error
	}
	line, _ := p.r.FieldPos(0)
	row := importRow{line: line}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return importRow{}, &Rejection{Line: line, Reason: fmt.Sprintf("column %q is not valid UTF-8", p.names[i])}, nil
		}
		if safetext.HasNUL(v) {
			return importRow{}, &Rejection{Line: line, Reason: fmt.Sprintf("contains a NUL byte in column %q", p.names[i])}, nil
		}
		v = strings.TrimSpace(v)
		switch p.roles[i] {
		case colEmail:
			email, err := NormalizeEmail(v)
			if err != nil {
				return importRow{}, &Rejection{Line: line, Reason: "invalid email: " + userMessage(err)}, nil
			}
			row.email, row.key = email, strings.ToLower(email)
		case colName:
			if len(v) > maxNameLen {
				return importRow{}, &Rejection{Line: line, Reason: fmt.Sprintf("name is longer than %d bytes", maxNameLen)}, nil
			}
			if r, ok := safetext.ControlChar(v); ok {
				return importRow{}, &Rejection{Line: line, Reason: oneLine(p.names[i], r)}, nil
			}
			row.name = v
		case colTags:
			tags, err := normalizeTags(p.opts.splitTags(v))
			if err != nil {
				return importRow{}, &Rejection{Line: line, Reason: "tags: " + userMessage(err)}, nil
			}
			row.tags = tags
		case colTopics:
			ids, reason := p.topicsOf(v)
			if reason != "" {
				return importRow{}, &Rejection{Line: line, Reason: reason}, nil
			}
			row.topics = ids
		case colConsent:
			if r, ok := safetext.ControlChar(v); ok {
				return importRow{}, &Rejection{Line: line, Reason: oneLine(p.names[i], r)}, nil
			}
			row.consent = v
		default:
			if v == "" {
				continue
			}
			if p.names[i] == timing.Attribute {
				if reason := timezoneRejection(v); reason != "" {
					return importRow{}, &Rejection{Line: line, Reason: reason}, nil
				}
			}
			if row.attrs == nil {
				row.attrs = map[string]any{}
			}
			row.attrs[p.names[i]] = attributeValue(v)
		}
	}
	if row.tags == nil {
		row.tags = []string{}
	}
	if row.attrs == nil {
		row.attrs = map[string]any{}
	}
	return row, nil, nil
}

// oneLine is the reason for a one-line column (a name goes into every
// message's To header) holding control character r.
func oneLine(column string, r rune) string {
	return fmt.Sprintf("column %q must be one line without control characters; it contains %s", column, safetext.Describe(r))
}

// plainNumber is a decimal that float64 holds exactly enough to keep: no
// leading zeros (zip codes and phone numbers stay text), at most 15 digits
// before the point.
var plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$`)

// attributeValue types a CSV cell: plain numbers become JSON numbers so
// rules can compare them (`contact.attributes.age > 30`); everything else
// stays text.
func attributeValue(v string) any {
	if plainNumber.MatchString(v) {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

// csvReason is a user-facing description of a CSV error.
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			return "wrong number of columns"
		case errors.Is(pe.Err, csv.ErrQuote):
			return fmt.Sprintf("malformed quoting (line %d, column %d)", pe.Line, pe.Column)
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return fmt.Sprintf("a quote inside an unquoted field (line %d, column %d)", pe.Line, pe.Column)
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// userMessage is the message of a domain error without its code prefix.
func userMessage(err error) string {
	var de *errs.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// merge folds a later row for the same address into r: a non-empty name
// replaces, attributes merge (later wins), tags are added, consent kept
// from the first line that has one.
func (r *importRow) merge(o importRow) {
	if o.name != "" {
		r.name = o.name
	}
	for k, v := range o.attrs {
		r.attrs[k] = v
	}
	for _, t := range o.tags {
		if !containsString(r.tags, t) {
			r.tags = append(r.tags, t)
		}
	}
	if r.consent == "" {
		r.consent = o.consent
	}
	for _, t := range o.topics {
		if !slices.Contains(r.topics, t) {
			r.topics = append(r.topics, t)
		}
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// attrsJSON encodes a row's attributes (strings and float64s, as
// attributeValue makes them) as a JSON object for COPY, without
// encoding/json's reflection, which cost more than the rest of the row.
// Any other value goes through encoding/json.
func attrsJSON(attrs map[string]any) (json.RawMessage, error) {
	b := make([]byte, 0, 16+len(attrs)*24)
	b = append(b, '{')
	first := true
	for k, v := range attrs {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		switch x := v.(type) {
		case string:
			b = appendJSONString(b, x)
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("attribute %q: %v is not a JSON number", k, x)
			}
			if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
				b = strconv.AppendFloat(b, x, 'e', -1, 64)
			} else {
				b = strconv.AppendFloat(b, x, 'f', -1, 64)
			}
		default:
			j, err := json.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", k, err)
			}
			b = append(b, j...)
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
