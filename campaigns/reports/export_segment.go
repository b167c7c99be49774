package reports

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// segmentPage is how many contacts one segment page walks.
const segmentPage = 1000

var contactHeader = []string{"id", "email", "name", "status", "tags", "attributes", "created_at",
	"sent", "opens", "clicks", "conversions", "revenue", "last_open_at", "last_click_at", "last_purchase_at"}

// SegmentContactsCSV is GET /segments/:id/contacts.csv: the segment's
// sendable contacts (those a campaign to it would reach), walked in pages
// of 1,000 in id order, never loaded whole.
func (h *Handler) SegmentContactsCSV(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	db := h.readDB(c)
	seg, err := segments.GetSegment(ctx, db, id)
	if err != nil && errs.Is(err, errs.NotFound) && db != h.cfg.Pool { // saved a moment ago: not on the replica yet
		c.Response().Header().Del(httpapi.DataAgeHeader)
		db = h.cfg.Pool
		seg, err = segments.GetSegment(ctx, db, id)
	}
	if err != nil {
		return err
	}
	rule, err := segments.CompileSegment(seg.Rule)
	if err != nil {
		return errs.New(errs.Conflict, "segment %q has an invalid rule: %v", seg.Name, err)
	}
	out, err := h.startCSV(c, fmt.Sprintf("segment-%d-contacts.csv", id), contactHeader)
	if err != nil {
		return nil
	}
	var after int64
	rec := make([]string, len(contactHeader))
	for {
		page, err := segments.MatchPage(ctx, db, rule, after, segmentPage)
		if err != nil {
			return h.abort(c, "segment", err)
		}
		if len(page.IDs) > 0 {
			cs, err := contacts.GetMany(ctx, db, page.IDs)
			if err != nil {
				return h.abort(c, "segment", err)
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
			for _, ct := range cs {
				attrs, err := json.Marshal(ct.Attributes)
				if err != nil {
					return h.abort(c, "segment", err)
				}
				created := ct.CreatedAt
				rec = append(rec[:0], formatInt(ct.ID), ct.Email, ct.Name, ct.Status, strings.Join(ct.Tags, ";"), string(attrs),
					formatTime(&created), formatInt(int64(ct.Stats.Sent)), formatInt(int64(ct.Stats.Opens)),
					formatInt(int64(ct.Stats.Clicks)), formatInt(int64(ct.Stats.Conversions)), formatFloat(ct.Stats.Revenue),
					formatTime(ct.Stats.LastOpenAt), formatTime(ct.Stats.LastClickAt), formatTime(ct.Stats.LastPurchaseAt))
				if err := out.row(rec); err != nil {
					return h.abort(c, "segment", err)
				}
			}
		}
		if page.Done {
			break
		}
		after = page.Last
	}
	if err := out.close(); err != nil {
		return h.abort(c, "segment", err)
	}
	return nil
}
