package web

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/segments"
)

// segmentBuilder is what the segment form's click-through builder
// (static/segment_builder.js) reads from its data attributes: the fields
// it offers, with the operators of each kind, and its messages in the
// page's language.
type segmentBuilder struct {
	Fields string // JSON: [{"field","kind","group","values"}]
	Ops    string // JSON: {"text":["is",…],…}
	Labels string // JSON: the catalogue's "segbuilder." messages
}

// builderData loads the builder's fields (the attributes and tags seen in
// the data among them) and its messages.
func (u *UI) builderData(c echo.Context) (segmentBuilder, error) {
	fields, err := segments.BuilderFields(c.Request().Context(), u.Pool)
	if err != nil {
		return segmentBuilder{}, err
	}
	labels := map[string]string{}
	for k, v := range u.lang(c).msg {
		if strings.HasPrefix(k, "segbuilder.") {
			labels[k] = v
		}
	}
	var b segmentBuilder
	for _, x := range []struct {
		dst *string
		v   any
	}{{&b.Fields, fields}, {&b.Ops, segments.Ops}, {&b.Labels, labels}} {
		raw, err := json.Marshal(x.v)
		if err != nil {
			return segmentBuilder{}, fmt.Errorf("segment builder: %w", err)
		}
		*x.dst = string(raw)
	}
	return b, nil
}
