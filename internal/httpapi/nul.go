package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/safetext"
)

// maxFormMemory is what a multipart form may hold in memory when CheckNUL
// parses it (as Echo's FormValue would).
const maxFormMemory = 32 << 20

// RejectNUL is middleware that answers 422 naming the query parameter or
// url-encoded form field whose name or value holds a NUL byte, before the
// handler passes it to PostgreSQL (which cannot store one). Multipart
// bodies are left to their handler, which may stream them.
func RejectNUL() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := CheckNUL(c, false); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// CheckNUL returns an errs.Invalid naming the first query parameter or
// form field (url-encoded, and multipart too when multipart is true) whose
// name or value holds a NUL byte, or nil.
func CheckNUL(c echo.Context, multipart bool) error {
	r := c.Request()
	if q := r.URL.RawQuery; strings.Contains(q, "%00") || strings.IndexByte(q, 0) >= 0 {
		if err := valuesNUL(c.QueryParams()); err != nil {
			return err
		}
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch {
	case ct == echo.MIMEApplicationForm:
		if r.ParseForm() == nil {
			return valuesNUL(r.PostForm)
		}
	case ct == echo.MIMEMultipartForm && multipart:
		if r.ParseMultipartForm(maxFormMemory) == nil {
			return valuesNUL(r.MultipartForm.Value)
		}
	}
	return nil // a malformed body is the handler's to refuse
}

// valuesNUL checks names and values, in name order so the same request
// names the same field.
func valuesNUL(vs url.Values) error {
	var bad []string
	for k, list := range vs {
		if safetext.HasNUL(k) || slices.ContainsFunc(list, safetext.HasNUL) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	k := slices.Min(bad)
	if safetext.HasNUL(k) {
		return errs.Field(safetext.ShowKey(k), safetext.NULKeyMessage)
	}
	return errs.Field(k, safetext.NULMessage)
}
