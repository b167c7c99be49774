package reports

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
