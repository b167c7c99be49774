package analytics

import (
	"context"
	"log/slog"
	"time"
)

// Result is what one recompute did.
type Result struct {
	// Scored is how many contact_scores rows the recompute wrote (rows
	// whose scores, likelihood and cluster did not change are skipped).
	Scored    int64      `json:"scored"`
	Models    []Model    `json:"models"`
	Clusters  []Cluster  `json:"clusters"`
	Anomalies []Anomaly  `json:"anomalies"`
	Steps     []StepTime `json:"steps"`
}

// StepTime is how long one step of a recompute took.
type StepTime struct {
	Step    string        `json:"step"`
	Elapsed time.Duration `json:"elapsed"`
}

// Recompute runs every analysis in order: RFM, value and churn, the
// response model and clusters, computed in one transaction and written to
// contact_scores once (step "write_scores", see recomputeScores), then
// campaign anomalies. Each step is set-based SQL or a bounded sample, so
// memory does not grow with the number of contacts. logger may be nil.
func Recompute(ctx context.Context, db DBTX, cfg Config, logger *slog.Logger) (Result, error) {
	cfg = cfg.WithDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var res Result
	step := func(name string, fn func() error) error {
		t0 := time.Now()
		if err := fn(); err != nil {
			return err
		}
		el := time.Since(t0)
		res.Steps = append(res.Steps, StepTime{Step: name, Elapsed: el})
		logger.InfoContext(ctx, "analytics step done", slog.String("step", name), slog.Duration("elapsed", el))
		return nil
	}
	if err := recomputeScores(ctx, db, cfg, step, &res); err != nil {
		return res, err
	}
	var err error
	if err := step("anomalies", func() error { res.Anomalies, err = DetectAnomalies(ctx, db, cfg); return err }); err != nil {
		return res, err
	}
	return res, nil
}
