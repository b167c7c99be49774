package reports

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// csvStream writes a CSV response row by row, flushing every few rows so
// memory stays flat whatever the size.
type csvStream struct {
	w     *csv.Writer
	resp  *echo.Response
	n     int
	every int
}

// startCSV sends the headers (and, with ?bom=1, a UTF-8 byte order mark
// for spreadsheet tools) and returns the writer.
func (h *Handler) startCSV(c echo.Context, filename string, header []string) (*csvStream, error) {
	resp := c.Response()
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	resp.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", filename))
	resp.WriteHeader(http.StatusOK)
	if c.QueryParam("bom") == "1" {
		if _, err := resp.Write([]byte("\uFEFF")); err != nil {
			return nil, err
		}
	}
	s := &csvStream{w: csv.NewWriter(resp), resp: resp, every: h.cfg.FlushEvery}
	return s, s.row(header)
}

func (s *csvStream) row(rec []string) error {
	for i, v := range rec {
		rec[i] = neutralise(v)
	}
	if err := s.w.Write(rec); err != nil {
		return err
	}
	s.n++
	if s.n%s.every == 0 {
		s.w.Flush()
		if err := s.w.Error(); err != nil {
			return err
		}
		s.resp.Flush()
	}
	return nil
}

func (s *csvStream) close() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	s.resp.Flush()
	return nil
}

// abort ends a response whose headers are already sent after a failure:
// the connection is cut so the client sees an incomplete download rather
// than a silently short file.
func (h *Handler) abort(c echo.Context, what string, err error) error {
	h.cfg.Logger.ErrorContext(c.Request().Context(), "csv export failed", "export", what, "error", err)
	panic(http.ErrAbortHandler)
}

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula (or, tab and carriage return, hide one after them).
const formulaStart = "=+-@\t\r"

// neutralise keeps a cell from being read as a formula by a spreadsheet
// (CSV injection): text from users (names, emails, attributes, URLs,
// server replies) that starts with = + - @, a tab or a carriage return
// gets a leading single quote. Plain numbers (-3, +1.5e3) stay numbers.
func neutralise(s string) string {
	if s == "" || !strings.ContainsRune(formulaStart, rune(s[0])) || isNumber(s) {
		return s
	}
	return "'" + s
}

// isNumber reports whether s is a plain decimal number: an optional sign,
// digits with an optional fraction, an optional exponent.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// appendCSVText appends s as one CSV cell of text from users: neutralised
// like neutralise, then quoted exactly as encoding/csv's Writer (comma
// separated, LF line ends) quotes it. The fast exports build rows with it
// instead of a csv.Writer of []string: no strings per cell.
func appendCSVText(dst, s []byte) []byte {
	if len(s) > 0 && strings.IndexByte(formulaStart, s[0]) >= 0 && !isNumber(string(s)) {
		// A leading quote never needs quoting by itself, and "'" + s
		// starts with it, not with a space: quote only for what s holds.
		if !bytesNeedQuotes(s, false) {
			dst = append(dst, '\'')
			return append(dst, s...)
		}
		dst = append(dst, '"', '\'')
		return appendQuotedBody(dst, s)
	}
	if !bytesNeedQuotes(s, true) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	return appendQuotedBody(dst, s)
}

// bytesNeedQuotes is encoding/csv's fieldNeedsQuotes for a comma: a
// comma, quote, CR or LF anywhere, the field `\.`, or (when the cell
// starts with s) a leading Unicode space.
func bytesNeedQuotes(s []byte, leading bool) bool {
	if len(s) == 0 {
		return false
	}
	if leading && len(s) == 2 && s[0] == '\\' && s[1] == '.' {
		return true
	}
	for _, c := range s {
		if c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	if !leading {
		return false
	}
	if s[0] < utf8.RuneSelf {
		return unicode.IsSpace(rune(s[0]))
	}
	r, _ := utf8.DecodeRune(s)
	return unicode.IsSpace(r)
}

// appendQuotedBody appends s with its quotes doubled and the closing quote.
func appendQuotedBody(dst, s []byte) []byte {
	for _, c := range s {
		if c == '"' {
			dst = append(dst, '"', '"')
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendRFC3339 appends t in UTC as time.RFC3339 formats it (whole
// seconds), without time.Format's layout parsing.
func appendRFC3339(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339)
	}
	hour, minute, sec := t.Clock()
	dst = append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, minute)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	return append(dst, 'Z')
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }
