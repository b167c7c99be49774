package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
)

// wordsPath words a compiler message for the live previews (app.js): the
// API keeps its English, and the page asks here for the same message in
// its own language. It is read-only, so every role that sees the page may
// ask.
const wordsPath = "/words"

// maxWordsMessage bounds the message to word (an API message is short).
const maxWordsMessage = 4000

func (u *UI) wordsRoutes(g *echo.Group) {
	g.GET(wordsPath, u.words)
}

// words answers ?kind=expr:segment|expr:rule|expr:goal|template&message=…
// (&placed=1 when the API gave a position) with {"text": "…"}.
func (u *UI) words(c echo.Context) error {
	kind, message := c.QueryParam("kind"), c.QueryParam("message")
	placed := c.QueryParam("placed") == "1"
	if len(message) > maxWordsMessage {
		return errs.Field("message", "is longer than %d bytes", maxWordsMessage)
	}
	var text string
	switch {
	case kind == "template":
		text = templateWords(u.tr(c), message, placed)
	case strings.HasPrefix(kind, "expr:") && envNames(strings.TrimPrefix(kind, "expr:")) != nil:
		text = exprWords(u.tr(c), strings.TrimPrefix(kind, "expr:"), message, placed)
	default:
		return errs.Field("kind", "must be expr:segment, expr:rule, expr:goal or template")
	}
	return c.JSON(http.StatusOK, map[string]string{"text": text})
}
