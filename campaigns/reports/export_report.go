package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/internal/httpapi"
)

// report fetches campaign :id's report (and says its data's age when it
// was read from a replica).
func (h *Handler) report(c echo.Context) (campaigns.Report, error) {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return campaigns.Report{}, err
	}
	r, err := h.cfg.Report(c.Request().Context(), id)
	if err == nil && r.AsOf != nil {
		httpapi.SetDataAge(c, *r.AsOf, h.cfg.Now())
	}
	return r, err
}

// ReportCSV is GET /campaigns/:id/report.csv: the report summary as
// field,value rows (metrics.sent, steps.main.opens, links[0].clicks,
// goals[0].met, timeline[3].opens …), in the JSON report's order.
func (h *Handler) ReportCSV(c echo.Context) error {
	r, err := h.report(c)
	if err != nil {
		return err
	}
	// The rows follow the report's JSON encoding, so each field's path is
	// its API name.
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	out, err := h.startCSV(c, fmt.Sprintf("campaign-%d-report.csv", r.CampaignID), []string{"field", "value"})
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
	r, err := h.report(c)
	if err != nil {
		return err
	}
	out, err := h.startCSV(c, fmt.Sprintf("campaign-%d-links.csv", r.CampaignID), linkHeader)
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
