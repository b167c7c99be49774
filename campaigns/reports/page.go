package reports

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageReport is what the pages read of a campaign report (its JSON).
type pageReport struct {
	CampaignID int64          `json:"campaign_id"`
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Progress   map[string]any `json:"progress"`
	Metrics    pageMetrics    `json:"metrics"`
	Links      []linkRow      `json:"links"`
	Goals      []pageGoal     `json:"goals"`
}

// pageMetrics are a report's numeric metrics by name; the others
// (currency, revenue_by_currency) are left out.
type pageMetrics map[string]float64

// UnmarshalJSON keeps the numeric members of a metrics object.
func (m *pageMetrics) UnmarshalJSON(b []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*m = pageMetrics{}
	for k, raw := range all {
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			(*m)[k] = f
		}
	}
	return nil
}

type pageGoal struct {
	Name     string  `json:"name"`
	When     string  `json:"when"`
	Met      bool    `json:"met"`
	Progress float64 `json:"progress"`
	Status   string  `json:"status"`
}

// pageData is a page template's input.
type pageData struct {
	Report  pageReport
	Reports []pageReport
	Raw     any    // the report(s) as sent by the API, a JSON data block for the page's script
	Assets  string // URL prefix of the assets
	API     string // URL prefix of the API (for the stream)
}

var pageFuncs = template.FuncMap{
	"num":   func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"money": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
	"pct":   func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"list":  func() []string { return compareMetrics },
	"fmt": func(metric string, f float64) string {
		switch metric {
		case "open_rate", "ctr", "ctor", "unsubscribe_rate", "bounce_rate", "conversion_rate":
			return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
		case "revenue", "revenue_per_recipient":
			return strconv.FormatFloat(f, 'f', 2, 64)
		}
		return strconv.FormatFloat(f, 'f', -1, 64)
	},
	"width": func(n, of float64) string {
		if of <= 0 || n <= 0 {
			return "0%"
		}
		return strconv.FormatFloat(math.Min(100, 100*n/of), 'f', 1, 64) + "%"
	},
}

// compareMetrics are the comparison page's rows.
var compareMetrics = []string{"sent", "delivered", "bounced", "opens", "unique_opens", "clicks", "unique_clicks",
	"unsubscribes", "complaints", "conversions", "revenue", "open_rate", "ctr", "ctor", "unsubscribe_rate",
	"bounce_rate", "conversion_rate", "revenue_per_recipient", "total_opens", "total_clicks"}

var pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(templateFS, "templates/*.html"))

// toPage decodes a report into what the pages read.
func toPage(r any) (pageReport, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return pageReport{}, fmt.Errorf("encode report: %w", err)
	}
	var p pageReport
	if err := json.Unmarshal(b, &p); err != nil {
		return pageReport{}, fmt.Errorf("decode report: %w", err)
	}
	return p, nil
}

func (h *Handler) render(c echo.Context, name string, d pageData) error {
	d.Assets, d.API = h.cfg.AssetsPath, h.cfg.APIPath
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// Page is the campaign report page: headline numbers, goal progress, a
// chart of opens, clicks and conversions over time, the funnel and the
// per-link table, kept current by the stream. It reads :id and can be
// mounted on any route that has it (the admin UI mounts it under /admin).
func (h *Handler) Page(c echo.Context) error {
	_, b, err := h.reportJSON(c)
	if err != nil {
		return err
	}
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode report: %w", err)
	}
	p, err := toPage(raw)
	if err != nil {
		return err
	}
	return h.render(c, "report.html", pageData{Report: p, Raw: raw})
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
	d := pageData{}
	for _, r := range cmp.Items {
		p, err := toPage(r)
		if err != nil {
			return err
		}
		d.Reports = append(d.Reports, p)
	}
	return h.render(c, "compare.html", d)
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
