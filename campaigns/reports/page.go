package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageData is a page template's input.
type pageData struct {
	Report  campaigns.Report
	Reports []campaigns.Report
	View    View   // what the report page shows beyond the report (see NewView)
	Assets  string // URL prefix of the assets
	API     string // URL prefix of the API (for the stream)
}

var pageFuncs = template.FuncMap{
	"num":   func(n int64) string { return strconv.FormatInt(n, 10) },
	"money": Money,
	// otherRevenue is the revenue in other currencies than the reporting
	// one ("" when none): shown apart, never added.
	"otherRevenue": OtherRevenue,
	"pct":          func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"rows":         func() []compareRow { return compareRows },
	"width":        func(n, of int64) string { return width(float64(n), float64(of)) },
	"share":        func(f float64) string { return width(f, 1) },
	"rate":         func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	// termValue shows a goal term's number as its metric is shown.
	"termValue": TermValue,
}

// TermValue shows a goal term's value or target as metric is shown:
// rates as percentages, money with two decimals, counts as integers.
func TermValue(metric string, f float64) string {
	switch metric {
	case "open_rate", "ctr", "ctor", "unsubscribe_rate", "bounce_rate", "conversion_rate",
		"total_open_rate", "total_ctr", "total_ctor":
		return strconv.FormatFloat(math.Round(100*f*100)/100, 'f', -1, 64) + "%"
	case "revenue", "revenue_per_recipient":
		return Money("", f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// width is n as a share of of, as a CSS width in [0%, 100%].
func width(n, of float64) string {
	if of <= 0 || n <= 0 {
		return "0%"
	}
	return strconv.FormatFloat(math.Min(100, 100*n/of), 'f', 1, 64) + "%"
}

var pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(templateFS, "templates/*.html"))

func (h *Handler) render(c echo.Context, name string, d pageData) error {
	d.Assets, d.API = h.cfg.AssetsPath, h.cfg.APIPath
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// Page is the campaign report page: headline numbers, sending progress,
// goal progress, a chart of opens, clicks and conversions over time, the
// funnel, the per-step results and the per-link table, kept current by the
// stream. It reads :id and can be mounted on any route that has it.
func (h *Handler) Page(c echo.Context) error {
	r, err := h.report(c)
	if err != nil {
		return err
	}
	return h.render(c, "report.html", pageData{Report: r, View: NewView(r, nil)})
}

// ComparePage is the comparison page for ?ids=1,2,3.
func (h *Handler) ComparePage(c echo.Context) error {
	ids, err := compareIDs(c)
	if err != nil {
		return err
	}
	cmp, err := h.compare(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	return h.render(c, "compare.html", pageData{Reports: cmp.Items})
}

// assetsStarted is the modification time given to embedded assets.
var assetsStarted = time.Now()

// Asset serves the pages' embedded assets (uPlot and the page script).
func (h *Handler) Asset(c echo.Context) error {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return err
	}
	name := c.Param("*")
	f, err := sub.Open(name)
	if err != nil {
		return echo.ErrNotFound
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(c.Response(), c.Request(), name, assetsStarted, rs)
	return nil
}
