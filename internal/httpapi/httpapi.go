// Package httpapi holds what every Peykar HTTP handler shares: the one error
// handler that maps domain error codes to statuses and the JSON error shape,
// request binding with clear messages, and list pagination.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// ErrorBody is the API's error shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one error.
type ErrorDetail struct {
	Code     errs.Code `json:"code"`
	Message  string    `json:"message"`
	Field    string    `json:"field,omitempty"`
	Position int       `json:"position,omitempty"`
	Line     int       `json:"line,omitempty"`
	Column   int       `json:"column,omitempty"`
	// ID is the existing resource's id on a conflict.
	ID any `json:"id,omitempty"`
	// Errors lists every mistake when there are several (validation, a
	// launch's gaps and failed pre-send checks); the fields above describe
	// the first.
	Errors []ErrorDetail `json:"errors,omitempty"`
	// Check names the failed pre-send check (templates.Check names).
	Check string `json:"check,omitempty"`
	// Role is the role a forbidden request needs (admin, marketer,
	// manager), so a page can say it in its own language.
	Role string `json:"role,omitempty"`
	// UsedBy lists what keeps an item from being deleted (errs.InUse).
	UsedBy []errs.User `json:"used_by,omitempty"`
}

// Status maps a domain error code to an HTTP status.
func Status(code errs.Code) int {
	switch code {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorHandler returns Echo's HTTPErrorHandler: domain errors keep their code
// and message, Echo's own errors (404 route, 405, 413 body too large, 400)
// keep their status, and anything else is logged and answered as a bare
// internal error so no internals reach the client.
func ErrorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if gone := c.Request().Context().Err(); gone != nil && errors.Is(err, gone) {
			// The client closed the connection (a tab closed mid-stream, a
			// page left while its body loaded): nothing failed on our side,
			// so no ERROR line; the access log records 499, nginx's code.
			_ = c.NoContent(StatusClientClosedRequest)
			return
		}
		status, body := toBody(err)
		if status >= 500 {
			logger.ErrorContext(c.Request().Context(), "request failed",
				slog.String("method", c.Request().Method), slog.String("path", RedactURI(c, c.Request().URL.EscapedPath())),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.Any("error", err))
		}
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(status)
		} else {
			err = c.JSON(status, body)
		}
		if err != nil {
			logger.ErrorContext(c.Request().Context(), "write error response", slog.Any("error", err))
		}
	}
}

// StatusClientClosedRequest is the status recorded for a request whose
// client went away before the answer (nginx's 499; never seen by a client).
const StatusClientClosedRequest = 499

func toBody(err error) (int, ErrorBody) {
	var de *errs.Error
	if errors.As(err, &de) {
		d := ErrorDetail{Code: de.Code, Message: de.Message, Field: de.Field, Position: de.Position, Line: de.Line, Column: de.Column}
		if de.Code == errs.Internal {
			d.Message = "internal error"
		}
		if id, ok := de.Details["id"]; ok {
			d.ID = id
		}
		if ch, ok := de.Details["check"].(string); ok {
			d.Check = ch
		}
		if r, ok := de.Details["role"].(string); ok {
			d.Role = r
		}
		d.UsedBy = errs.UsedBy(de)
		for _, e := range de.Errors {
			_, sub := toBody(e)
			d.Errors = append(d.Errors, sub.Error)
		}
		return Status(de.Code), ErrorBody{Error: d}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := strings.ToLower(http.StatusText(he.Code))
		if s, ok := he.Message.(string); ok && s != "" && s != http.StatusText(he.Code) {
			msg = s
		}
		code := errs.Internal
		switch {
		case he.Code == http.StatusNotFound:
			code = errs.NotFound
		case he.Code == http.StatusUnauthorized:
			code = errs.Unauthorized
		case he.Code == http.StatusForbidden:
			code = errs.Forbidden
		case he.Code == http.StatusRequestEntityTooLarge:
			code, msg = errs.Invalid, "request body too large"
		case he.Code < 500:
			code = errs.Invalid
		}
		if he.Code >= 500 {
			msg = "internal error"
		}
		return he.Code, ErrorBody{Error: ErrorDetail{Code: code, Message: msg}}
	}
	return http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{Code: errs.Internal, Message: "internal error"}}
}

// BindJSON decodes the request body into v, refusing unknown fields,
// trailing data and malformed JSON with a 400 that says where, and a string
// or key holding a NUL byte (which PostgreSQL cannot store) with a 422
// naming its JSON path (attributes.city, steps[1].key).
func BindJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return badJSON(err)
	}
	if err := safetext.JSON(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	if dec.More() {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: unexpected data after the object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: unexpected data after the object")
	}
	return nil
}

func badJSON(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	case errors.Is(err, io.EOF):
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: empty body")
	case errors.As(err, &syn):
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("invalid JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		return &errs.Error{Code: errs.Invalid, Field: typ.Field, Message: fmt.Sprintf("must be %s, not %s", typ.Type, typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Invalid, Field: field, Message: "unknown field"}
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON: "+err.Error())
	}
}

// PathID parses the path parameter name as a positive integer id.
func PathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.NotFound, "no such %s", strings.TrimSuffix(name, "_id"))
	}
	return id, nil
}

// List is the API's list shape with keyset pagination.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// Limit reads ?limit= (default def, capped at max).
func Limit(c echo.Context, def, max int) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errs.Field("limit", "must be a positive whole number")
	}
	return min(n, max), nil
}

// InternalErrorBody is the JSON body ErrorHandler answers an internal
// error with (a panic's), as Echo writes it, for a server that answers
// some routes without Echo.
func InternalErrorBody() []byte {
	_, body := toBody(errors.New("internal"))
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // a fixed struct of strings always encodes
	}
	return append(b, '\n')
}
