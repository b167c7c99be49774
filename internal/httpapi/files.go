package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// Files serves the regular files of fsys (an embedded, unchanging file
// system) at the route's wildcard, for a route such as /assets/*, with an
// ETag so a browser can revalidate cheaply, and with cacheControl as their
// Cache-Control header when it is not empty. Everything else answers 404: a
// directory (no listing and no index page, so nothing reveals what else is
// there), a missing file, and a path with "." or ".." segments, an empty
// segment or a leading slash.
func Files(fsys fs.FS, cacheControl string) echo.HandlerFunc {
	var etags sync.Map // file name → quoted ETag
	return func(c echo.Context) error {
		name, err := url.PathUnescape(c.Param("*"))
		if err != nil || !fs.ValidPath(name) || name == "." {
			return errs.New(errs.NotFound, "not found")
		}
		f, err := fsys.Open(name)
		if err != nil {
			return errs.New(errs.NotFound, "not found")
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return errs.New(errs.NotFound, "not found")
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok {
			return errs.New(errs.NotFound, "not found")
		}
		tag, ok := etags.Load(name)
		if !ok {
			if tag, err = etag(rs); err != nil {
				return fmt.Errorf("asset %s: %w", name, err)
			}
			etags.Store(name, tag)
		}
		h := c.Response().Header()
		h.Set("ETag", tag.(string))
		if cacheControl != "" {
			h.Set(echo.HeaderCacheControl, cacheControl)
		}
		// Embedded files have no modification time: ServeContent then sends
		// no Last-Modified and answers If-None-Match with 304.
		http.ServeContent(c.Response(), c.Request(), st.Name(), st.ModTime(), rs)
		return nil
	}
}

// etag hashes the content of rs and rewinds it.
func etag(rs io.ReadSeeker) (any, error) {
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return nil, err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16]) + `"`, nil
}
