package contacts

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jalaali "github.com/jalaali/go-jalaali"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// The columns of an events file (besides attr.* attributes).
const (
	evColEmail = iota
	evColContactID
	evColType
	evColOccurredAt
	evColValue
	evColCurrency
	evColKey
	evColAttr
)

var eventColumns = map[string]int{
	"email": evColEmail, "contact_id": evColContactID, "type": evColType, "occurred_at": evColOccurredAt,
	"value": evColValue, "currency": evColCurrency, "idempotency_key": evColKey,
}

// eventColumnsHelp names the columns an events file may have.
const eventColumnsHelp = "email or contact_id, type, occurred_at, and optionally value, currency, idempotency_key and attr.NAME columns for attributes"

// eventLine is one valid line of an events file: the event as POST
// /events would take it, and its line number.
type eventLine struct {
	line int
	in   EventInput
}

// eventParser reads events from a CSV stream with a header line.
type eventParser struct {
	r     *csv.Reader
	roles []int
	names []string // attr.NAME → NAME
}

// newEventParser reads the header: it needs email or contact_id, type and
// occurred_at; any other column but value, currency, idempotency_key and
// attr.* is refused (errs.Invalid naming it), so a misspelt column is not
// silently dropped.
func newEventParser(r io.Reader, delimiter string) (*eventParser, error) {
	if delimiter == "" {
		delimiter = DelimiterComma
	}
	comma, ok := delimiters[delimiter]
	if !ok {
		return nil, errs.Field("delimiter", "must be comma, semicolon or tab, not %q", delimiter)
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.Comma = comma
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errs.Field("file", "is empty: a header line naming the columns (%s) is required", eventColumnsHelp)
	}
	if err != nil {
		return nil, errs.Field("file", "line 1: the header is not valid CSV: %s", csvReason(err))
	}
	if len(header) > maxImportColumns {
		return nil, errs.Field("file", "line 1: more than %d columns", maxImportColumns)
	}
	p := &eventParser{r: cr, roles: make([]int, len(header)), names: make([]string, len(header))}
	seen := map[string]int{}
	has := map[int]bool{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) || safetext.HasNUL(h) {
			return nil, errs.Field("file", "line 1: column %d: the header is not valid UTF-8 text", i+1)
		}
		low := strings.ToLower(h)
		if j, dup := seen[low]; dup {
			return nil, errs.Field("file", "line 1: columns %d and %d have the same name %q", j+1, i+1, h)
		}
		seen[low] = i
		role, known := eventColumns[low]
		switch {
		case known:
		case strings.HasPrefix(low, "attr.") && len(h) > len("attr."):
			role, p.names[i] = evColAttr, h[len("attr."):]
		default:
			return nil, errs.Field("file", "line 1: unknown column %q: the columns are %s", h, eventColumnsHelp)
		}
		p.roles[i] = role
		has[role] = true
	}
	if !has[evColEmail] && !has[evColContactID] {
		return nil, errs.Field("file", "line 1: no email or contact_id column; the columns are %s", eventColumnsHelp)
	}
	for role, name := range map[int]string{evColType: "type", evColOccurredAt: "occurred_at"} {
		if !has[role] {
			return nil, errs.Field("file", "line 1: no %s column; the columns are %s", name, eventColumnsHelp)
		}
	}
	cr.FieldsPerRecord = len(header)
	return p, nil
}

// next returns the next data line: an event, or a rejection of that line.
// It returns io.EOF at the end and another error only when the stream
// itself fails. A line is checked as POST /events checks a body.
func (p *eventParser) next() (eventLine, *Rejection, error) {
	rec, err := p.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return eventLine{}, &Rejection{Line: pe.StartLine, Reason: csvReason(err)}, nil
		}
		return eventLine{}, nil, err
	}
	line, _ := p.r.FieldPos(0)
	reject := func(format string, args ...any) (eventLine, *Rejection, error) {
		return eventLine{}, &Rejection{Line: line, Reason: fmt.Sprintf(format, args...)}, nil
	}
	in := EventInput{Attributes: map[string]any{}}
	for i, v := range rec {
		if !utf8.ValidString(v) || safetext.HasNUL(v) {
			return reject("column %d is not valid UTF-8 text", i+1)
		}
		v = strings.TrimSpace(v)
		switch p.roles[i] {
		case evColEmail:
			in.Email = v
		case evColContactID:
			if v == "" {
				continue
			}
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return reject("contact_id %q is not a contact id", v)
			}
			in.ContactID = id
		case evColType:
			in.Type = v
		case evColOccurredAt:
			at, err := parseOccurredAt(v)
			if err != nil {
				return reject("occurred_at %q: %v", v, err)
			}
			in.OccurredAt = &at
		case evColValue:
			if v == "" {
				continue
			}
			f, err := strconv.ParseFloat(asciiNumber(v), 64)
			if err != nil {
				return reject("value %q is not a number (write 49.90)", v)
			}
			in.Value = f
		case evColCurrency:
			in.Currency = v
		case evColKey:
			in.IdempotencyKey = v
		case evColAttr:
			if v != "" {
				in.Attributes[p.names[i]] = attributeValue(v)
			}
		}
	}
	if in.ContactID == 0 && in.Email == "" {
		return reject("email or contact_id is required")
	}
	if in.Email != "" {
		email, err := NormalizeEmail(in.Email)
		if err != nil {
			return reject("invalid email: %s", userMessage(err))
		}
		in.Email = email
	}
	if err := in.validate(); err != nil {
		var de *errs.Error
		if errors.As(err, &de) && de.Field != "" {
			return reject("%s: %s", de.Field, de.Message)
		}
		return reject("%s", userMessage(err))
	}
	return eventLine{line: line, in: in}, nil, nil
}

// errOccurredAt says what occurred_at takes.
var errOccurredAt = errors.New("write an RFC 3339 time such as 2026-03-21T09:30:00Z or +03:30, a date such as 2026-03-21 (midnight UTC), or a Jalali date such as 1405/01/01")

// parseOccurredAt reads an event's time: RFC 3339; a date and time
// without a zone (UTC); a date (midnight UTC); or a Jalali date (a year
// before 1700, "1405/01/01" or "1405-01-01"), in ASCII or Persian digits.
func parseOccurredAt(s string) (time.Time, error) {
	s = asciiNumber(s)
	if s == "" {
		return time.Time{}, errors.New("is required: " + errOccurredAt.Error())
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil && t.Year() >= 1700 {
		return t, nil
	}
	var jy, jm, jd int
	var rest string
	n, _ := fmt.Sscanf(strings.ReplaceAll(s, "-", "/")+" .", "%d/%d/%d %s", &jy, &jm, &jd, &rest)
	if n == 4 && rest == "." && jy < 1700 && jalaali.IsValidDate(jy, jm, jd) {
		gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), jd)
		if err == nil {
			return time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, errOccurredAt
}

// asciiNumber writes Persian and Arabic-Indic digits, the Persian decimal
// separator and the Arabic comma as ASCII, as a spreadsheet in Persian
// may save them.
func asciiNumber(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '۰' && r <= '۹':
			return '0' + (r - '۰')
		case r >= '٠' && r <= '٩':
			return '0' + (r - '٠')
		case r == '٫':
			return '.'
		}
		return r
	}, s)
}
