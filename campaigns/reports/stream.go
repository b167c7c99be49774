package reports

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

// keepAlive is how often an idle stream sends a comment, so proxies keep it.
const keepAlive = 15 * time.Second

// Stream is GET /campaigns/:id/stream: a server-sent-event stream of the
// campaign's report. It sends the current state at once (also on a
// reconnect with Last-Event-ID), then an event whenever the report
// changes, at most once per poll interval. An event's data is the report
// without its timeline but with the timeline's last points
// (timeline_tail) and the names of the metrics that changed (changed). Event ids increase (they are
// based on the clock, so they also increase across pollers and restarts).
// A client reconnecting with Last-Event-ID gets the current state at once.
func (h *Handler) Stream(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Unknown campaigns answer a JSON error before the stream starts.
	if _, err := h.cfg.Report(ctx, id); err != nil {
		return err
	}
	p, changed, leave := h.hub.subscribe(id)
	defer leave()

	w := c.Response()
	// The server's write timeout must not cut a long-lived stream.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Time{})
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	w.Flush()
	// A closing server sends no report, not even one its poller holds for
	// another subscriber: a browser reconnecting here would take it for
	// the stream being back (journey.js stops its fallback on a report)
	// and lose it again at once, so its fallback would never tick.
	if h.isClosed() {
		return nil
	}

	var sent int64 = -1
	send := func(force bool) error {
		seq, data := p.latest()
		if data == nil || (!force && seq <= sent) {
			return nil
		}
		sent = seq
		if _, err := fmt.Fprintf(w, "id: %d\nevent: report\ndata: %s\n\n", seq, data); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	// The current state at once; before the first poll, as soon as it lands.
	if err := send(true); err != nil {
		return nil
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.closed:
			return nil
		case <-changed:
			if h.isClosed() { // both ready: select picks either
				return nil
			}
			if err := send(sent < 0); err != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}
