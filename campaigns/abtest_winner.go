package campaigns

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/httpapi"
)

// RemainderSender is what the campaign service needs from the runtime
// after a marketer picks an A/B test's winner: the remainder's send,
// enqueued in the pick's transaction. The engine implements it beside
// Runtime.
type RemainderSender interface {
	SendRemainderTx(ctx context.Context, tx pgx.Tx, campaignID int64) error
}

// WinnerInput is the body of POST /campaigns/{id}/ab_test/winner.
type WinnerInput struct {
	Variant string `json:"variant"`
}

// PickWinner records variant as the winner of campaign id's A/B test,
// chosen by a marketer (in "manual" mode, or early in "auto" mode), and
// enqueues the winner's send to the remainder. Errors: errs.NotFound,
// errs.Invalid (no test, no such variant), errs.Conflict (not running, or
// a winner chosen already).
func (s *Service) PickWinner(ctx context.Context, id int64, variant string) (ABTestState, error) {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := GetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.ABTest == nil {
			return errs.New(errs.Invalid, "campaign %d has no A/B test", id)
		}
		if _, ok := c.VariantOf(c.ABTest.Step, variant); !ok {
			return errs.Field("variant", "%q is not a variant of step %q", variant, c.ABTest.Step)
		}
		switch c.Status {
		case StatusRunning, StatusPaused, StatusFinished:
		default:
			return errs.New(errs.Conflict, "a %s campaign's A/B test has no winner to pick", c.Status)
		}
		_, standing, err := s.standingReason(ctx, tx, &c)
		if err != nil {
			return err
		}
		reason := "chosen by a marketer; the standing then: " + standing
		if err := ChooseWinner(ctx, tx, id, variant, ABWinnerManual, reason, s.now()); err != nil {
			return err
		}
		if rs, ok := s.Runtime.(RemainderSender); ok {
			return rs.SendRemainderTx(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return ABTestState{}, err
	}
	s.Logger.InfoContext(ctx, "A/B test winner picked", slog.Int64("campaign_id", id), slog.String("variant", variant))
	r, err := s.Report(ctx, id)
	if err != nil || r.ABTest == nil {
		return ABTestState{}, err
	}
	return *r.ABTest, nil
}

// standingReason is Standing's leader and reason in c's reporting currency.
func (s *Service) standingReason(ctx context.Context, db DBTX, c *Campaign) (string, string, error) {
	_, leader, reason, err := Standing(ctx, db, c, s.reportingCurrency(*c))
	return leader, reason, err
}

func (s *Service) pickWinner(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	var in WinnerInput
	if err := httpapi.BindJSON(c, &in); err != nil {
		return err
	}
	st, err := s.PickWinner(c.Request().Context(), id, in.Variant)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}
