package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// linkRow mirrors the report's per-link entries.
type linkRow struct {
	Step              string  `json:"step"`
	Idx               int     `json:"idx"`
	URL               string  `json:"url"`
	Name              string  `json:"name"`
	Clicks            int64   `json:"clicks"`
	UniqueClicks      int64   `json:"unique_clicks"`
	TotalClicks       int64   `json:"total_clicks"`
	TotalUniqueClicks int64   `json:"total_unique_clicks"`
	HumanShare        float64 `json:"human_share"`
}

// reportJSON fetches campaign id's report as JSON.
func (h *Handler) reportJSON(c echo.Context) (int64, []byte, error) {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return 0, nil, err
	}
	r, err := h.cfg.Report(c.Request().Context(), id)
	if err != nil {
		return 0, nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return 0, nil, fmt.Errorf("encode report: %w", err)
	}
	return id, b, nil
}

// ReportCSV is GET /campaigns/:id/report.csv: the report summary as
// field,value rows (metrics.sent, steps.main.opens, links[0].clicks,
// goals[0].met, timeline[3].opens …), in the JSON report's order.
func (h *Handler) ReportCSV(c echo.Context) error {
	id, b, err := h.reportJSON(c)
	if err != nil {
		return err
	}
	out, err := h.startCSV(c, fmt.Sprintf("campaign-%d-report.csv", id), []string{"field", "value"})
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := flatten(dec, "", func(k, v string) error { return out.row([]string{k, v}) }); err != nil {
		return h.abort(c, "report", err)
	}
	if err := out.close(); err != nil {
		return h.abort(c, "report", err)
	}
	return nil
}

// flatten walks one JSON value, calling emit with each leaf's path and
// text, in document order.
func flatten(dec *json.Decoder, path string, emit func(k, v string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if path != "" {
					k = path + "." + k
				}
				if err := flatten(dec, k, emit); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := flatten(dec, path+"["+strconv.Itoa(i)+"]", emit); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // the closing delimiter
		if err == io.EOF {
			return nil
		}
		return err
	case nil:
		return emit(path, "")
	case string:
		return emit(path, t)
	case json.Number:
		return emit(path, t.String())
	case bool:
		return emit(path, strconv.FormatBool(t))
	}
	return fmt.Errorf("unexpected JSON token %v", tok)
}

var linkHeader = []string{"step", "idx", "url", "name", "clicks", "unique_clicks", "total_clicks", "total_unique_clicks", "human_share"}

// LinksCSV is GET /campaigns/:id/links.csv: the report's per-link clicks.
func (h *Handler) LinksCSV(c echo.Context) error {
	id, b, err := h.reportJSON(c)
	if err != nil {
		return err
	}
	var r struct {
		Links []linkRow `json:"links"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode report: %w", err)
	}
	out, err := h.startCSV(c, fmt.Sprintf("campaign-%d-links.csv", id), linkHeader)
	if err != nil {
		return nil
	}
	for _, l := range r.Links {
		if err := out.row([]string{l.Step, strconv.Itoa(l.Idx), l.URL, l.Name, formatInt(l.Clicks), formatInt(l.UniqueClicks),
			formatInt(l.TotalClicks), formatInt(l.TotalUniqueClicks), formatFloat(l.HumanShare)}); err != nil {
			return h.abort(c, "links", err)
		}
	}
	if err := out.close(); err != nil {
		return h.abort(c, "links", err)
	}
	return nil
}
