package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/httpapi"
)

// contactNew is the add-a-contact form; contacts.js posts it to the API.
func (u *UI) contactNew(c echo.Context) error {
	return u.render(c, http.StatusOK, "contact_new", pageData{Nav: "contacts"})
}

// bulkStatus shows a bulk action's progress (the whole page, or the panel
// alone when htmx polls it).
func (u *UI) bulkStatus(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return u.pageErr(c, err)
	}
	j, err := contacts.GetBulkJob(c.Request().Context(), u.Pool, id)
	if err != nil {
		return u.pageErr(c, err)
	}
	data := bulkPage{BulkJob: j, TotalText: "—", DoneText: u.count(c, j.Done), FailedText: u.count(c, j.Failed)}
	if j.Total != nil {
		data.TotalText = u.count(c, *j.Total)
		if *j.Total > 0 {
			data.Percent = int(min(100, (j.Done+j.Failed)*100 / *j.Total))
		}
	}
	if c.Request().Header.Get("HX-Request") != "" {
		return u.fragment(c, http.StatusOK, "bulk", "status", data)
	}
	return u.render(c, http.StatusOK, "bulk", pageData{Nav: "contacts", Data: data})
}

// bulkPage is a bulk job with its numbers written for the page's language.
type bulkPage struct {
	contacts.BulkJob
	TotalText, DoneText, FailedText string
	Percent                         int
}

// count writes n with the digits and group separator of the request's
// language: 1,234 in English, ۱٬۲۳۴ in Persian.
func (u *UI) count(c echo.Context, n int64) string {
	return groupDigits(n, u.t(c, "lang"))
}

// groupDigits writes n in groups of three, in Persian digits for "fa".
func groupDigits(n int64, lang string) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if lang == "fa" {
		sep = "٬"
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		if lang == "fa" {
			r = '۰' + (r - '0')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
