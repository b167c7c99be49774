package messages

import (
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/internal/httpapi"
)

// MaxBody is the most bytes a POST /messages body may have: MaxData of
// data and room for the rest (413 beyond).
const MaxBody = MaxData + 4<<10

// Routes registers POST /messages and GET /messages/{id} on api (/api/v1).
func (s *Service) Routes(api *echo.Group) {
	api.POST("/messages", s.post)
	api.GET("/messages/:id", s.get)
}

func (s *Service) post(c echo.Context) error {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxBody)
	var in Input
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	ans, err := s.Send(r.Context(), r.Header.Get("Idempotency-Key"), in)
	if err != nil {
		return err
	}
	if ans.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusAccepted, ans)
}

// View is GET /messages/{id}: the message, and its delivery's progress.
type View struct {
	Message
	Attempts     int        `json:"attempts"`
	QueuedAt     *time.Time `json:"queued_at,omitempty"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	BouncedAt    *time.Time `json:"bounced_at,omitempty"`
	FirstOpenAt  *time.Time `json:"first_open_at,omitempty"`
	FirstClickAt *time.Time `json:"first_click_at,omitempty"`
}

func (s *Service) get(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	m, err := Get(ctx, s.cfg.Pool, id)
	if err != nil {
		return err
	}
	v := View{Message: m}
	if m.DeliveryID != nil {
		st, err := deliveries.GetState(ctx, s.cfg.Pool, *m.DeliveryID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil {
			v.Attempts, v.QueuedAt, v.SentAt, v.BouncedAt = st.Attempts, &st.QueuedAt, st.SentAt, st.BouncedAt
			v.FirstOpenAt, v.FirstClickAt = st.FirstOpenAt, st.FirstClickAt
		}
	}
	return c.JSON(http.StatusOK, v)
}
