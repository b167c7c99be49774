package contacts

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/internal/errs"
)

// ConversionRecorder attributes a transaction to campaigns (package
// tracking implements it). It is called inside the transaction that
// inserted the transaction row.
type ConversionRecorder interface {
	RecordConversion(ctx context.Context, tx pgx.Tx, t Transaction) error
}

// EventHook hands a recorded contact event to the journeys (package engine
// implements it: triggered campaigns listening on the event's type, and
// exit conditions). It is called inside the transaction that inserted the
// event, so what it enqueues commits with it. Paths that load history (an
// import of past events) do not call it, so old events fire no entries.
type EventHook interface {
	EventRecorded(ctx context.Context, tx pgx.Tx, t Transaction) error
}

// EventsHook is an EventHook that takes the new events of a group commit
// of POST /events (EventWriter) at once, in the group's transaction, in
// the order they were posted; hooks without it get one call per event.
type EventsHook interface {
	EventsRecorded(ctx context.Context, tx pgx.Tx, ts []Transaction) error
}

// Deps are what the handlers need.
type Deps struct {
	Pool *pgxpool.Pool
	// River enqueues import jobs; required for POST /contacts/import.
	River *river.Client[pgx.Tx]
	// Conversions, when not nil, attributes posted transactions.
	Conversions ConversionRecorder
	// Segments compiles a stored segment for GET /contacts?segment_id=
	// (segments.Filter); without it that filter is refused.
	Segments SegmentLoader
	// Events clears an erased contact's tracking events; required for
	// DELETE /contacts/{id} (tracking.EventEraser).
	Events EventEraser
	// Rules compiles the rule of a bulk action's "rule" selector; without
	// it that selector is refused.
	Rules  RuleCompiler
	Logger *slog.Logger
	// Actor says who made a request, for the consent records of its
	// subscription changes; nil: every change is an API change.
	Actor ActorFunc
	// Journeys, when not nil, receives every event posted to POST /events
	// (EventHook).
	Journeys EventHook
	// Changes, when not nil, hears of contacts created or changed through
	// POST, PUT and PATCH /contacts (ChangeHook).
	Changes ChangeHook
	// EventWriter group-commits POST /events; nil: Routes makes one over
	// Pool, Conversions and Journeys (give one to read its Stats).
	EventWriter *EventWriter
}

// Routes registers the contacts, suppressions, imports and events
// endpoints on api (/api/v1).
func Routes(api *echo.Group, deps Deps) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.EventWriter == nil {
		deps.EventWriter = NewEventWriter(deps.Pool, deps.Conversions, deps.Journeys)
	}
	h := &handlers{deps: deps}
	api.POST("/contacts", h.createContact)
	api.GET("/contacts", h.listContacts)
	api.POST("/contacts/import", h.importContacts)
	api.POST("/contacts/bulk", h.createBulk)
	api.GET("/contacts/:id", h.getContact)
	api.PUT("/contacts/:id", h.updateContact)
	api.PATCH("/contacts/:id", h.patchContact)
	api.DELETE("/contacts/:id", h.eraseContact)
	api.GET("/contacts/:id/export", h.exportContact)
	api.GET("/contacts/:id/consent", h.consentHistory)
	api.GET("/imports/:id", h.getImport)
	api.GET("/bulk/:id", h.getBulk)
	api.GET("/bulk/:id/export.csv", h.bulkExport)
	api.POST("/events", h.postEvent)
	api.GET("/contacts/:id/events", h.listContactEvents)
	api.GET("/contacts/:id/timeline", h.contactTimeline)
	api.POST("/events/import", h.importEvents)

	api.GET("/suppressions", h.listSuppressions)
	api.POST("/suppressions", h.addSuppression)
	api.DELETE("/suppressions/:id", h.deleteSuppression)
}

type handlers struct{ deps Deps }

// after reads the ?after= cursor (an id; empty means from the start).
func after(c echo.Context) (int64, error) {
	s := c.QueryParam("after")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.Field("after", "must be a cursor from a previous page")
	}
	return n, nil
}
