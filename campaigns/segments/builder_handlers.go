package segments

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// BuilderTree is the answer of POST /segments/builder/tree: the rule's
// builder tree when it fits (Fits), else why not (Reason); the rule text
// stays the source of truth then.
type BuilderTree struct {
	Fits   bool   `json:"fits"`
	Tree   *Node  `json:"tree,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// builderFields answers GET /segments/builder/fields: the fields, their
// kinds and known values, and the operators of each kind.
func (h *handlers) builderFields(c echo.Context) error {
	fields, err := BuilderFields(c.Request().Context(), h.deps.Pool)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": fields, "ops": Ops})
}

// builderRule answers POST /segments/builder/rule {"tree":…} → {"rule":…}.
func (h *handlers) builderRule(c echo.Context) error {
	var in struct {
		Tree Node `json:"tree"`
	}
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	rule, err := Rule(in.Tree)
	if err != nil {
		return err
	}
	compiled, err := CompileSegment(rule)
	if err != nil {
		return err
	}
	if err := compiled.CheckCampaigns(c.Request().Context(), h.deps.Pool); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"rule": rule})
}

// builderTree answers POST /segments/builder/tree {"rule":…}.
func (h *handlers) builderTree(c echo.Context) error {
	var in struct {
		Rule string `json:"rule"`
	}
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	tree, err := ParseBuilder(in.Rule)
	var nf *NotFitError
	if errors.As(err, &nf) {
		return c.JSON(http.StatusOK, BuilderTree{Reason: nf.Reason})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, BuilderTree{Fits: true, Tree: &tree})
}
