package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// stepCPU is a slog handler that, at each "analytics step done" record of
// a recompute, reads the client backends' CPU time, so each step's share of
// the database's work is known (not just its wall time on a loaded machine).
type stepCPU struct {
	pool  *pgxpool.Pool
	last  backendCPU
	steps []string
}

func newStepCPU(ctx context.Context, pool *pgxpool.Pool) *stepCPU {
	return &stepCPU{pool: pool, last: clientBackends(ctx, pool)}
}

func (h *stepCPU) Enabled(context.Context, slog.Level) bool { return true }

func (h *stepCPU) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "analytics step done" {
		return nil
	}
	var step string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "step" {
			step = a.Value.String()
		}
		return true
	})
	now := clientBackends(ctx, h.pool)
	h.steps = append(h.steps, fmt.Sprintf("%s %s", step, now.since(h.last).Round(10*time.Millisecond)))
	h.last = now
	return nil
}

func (h *stepCPU) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *stepCPU) WithGroup(string) slog.Handler      { return h }

// String lists each step's backend CPU.
func (h *stepCPU) String() string { return strings.Join(h.steps, ", ") }
