package reports

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
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

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
