package segments

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/internal/httpapi"
)

// previewSampleSize is how many contacts a preview shows.
const previewSampleSize = 20

func (h *handlers) createSegment(c echo.Context) error {
	var in SegmentInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	s, err := CreateSegment(c.Request().Context(), h.deps.Pool, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s)
}

func (h *handlers) getSegment(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	s, err := GetSegment(c.Request().Context(), h.deps.Pool, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h *handlers) updateSegment(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in SegmentInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	s, err := UpdateSegment(c.Request().Context(), h.deps.Pool, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h *handlers) deleteSegment(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := DeleteSegment(c.Request().Context(), h.deps.Pool, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) listSegments(c echo.Context) error {
	limit, err := httpapi.Limit(c, 50, 500)
	if err != nil {
		return err
	}
	a, err := after(c)
	if err != nil {
		return err
	}
	archived, err := Archived(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	items, err := ListSegmentsPage(ctx, h.deps.Pool, a, limit, archived)
	if err != nil {
		return err
	}
	out := listAnswer{}
	if out.Items, err = h.deps.Counts.Fill(ctx, h.readDB(c), items); err != nil {
		return err
	}
	if len(items) == limit {
		out.Next = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	if out.Total, err = CountSegments(ctx, h.deps.Pool, archived); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// listAnswer is GET /segments: the keyset list with each segment's counts,
// and the total (archived segments counted only with ?archived=true).
type listAnswer struct {
	Items []Listed `json:"items"`
	Next  string   `json:"next,omitempty"`
	Total int64    `json:"total"`
}

func (h *handlers) archiveSegment(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := httpapi.PathID(c, "id")
		if err != nil {
			return err
		}
		s, err := ArchiveSegment(c.Request().Context(), h.deps.Pool, id, archived)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, s)
	}
}

func (h *handlers) countSegment(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	db, compiled, err := h.compileForRead(c, id)
	if err != nil {
		return err
	}
	n, err := Count(ctx, db, compiled)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"count": n})
}

// Preview is the answer of POST /segments/preview.
type Preview struct {
	Count  int64              `json:"count"`
	Sample []contacts.Contact `json:"sample"`
	// SQL tells whether the rule runs as SQL (true) or in Go.
	SQL bool `json:"sql"`
}

func (h *handlers) previewSegment(c echo.Context) error {
	ctx := c.Request().Context()
	var in struct {
		Rule string `json:"rule"`
	}
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	compiled, err := CompileSegment(in.Rule)
	if err != nil {
		return err
	}
	if err := compiled.CheckCampaigns(ctx, h.deps.Pool); err != nil {
		return err
	}
	now := time.Now()
	db := h.readDB(c)
	n, err := count(ctx, db, compiled, now)
	if err != nil {
		return err
	}
	ids, err := matchingIDs(ctx, db, compiled, now, 0, previewSampleSize)
	if err != nil {
		return err
	}
	cs, err := contacts.GetMany(ctx, db, ids)
	if err != nil {
		return err
	}
	slices.SortFunc(cs, func(a, b contacts.Contact) int { return cmp.Compare(a.ID, b.ID) })
	return c.JSON(http.StatusOK, Preview{Count: n, Sample: cs, SQL: compiled.Translatable()})
}
