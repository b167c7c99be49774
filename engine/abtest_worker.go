package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/tracking"
)

// DecideABTestsArgs is the periodic job that ends the A/B tests whose
// duration has passed on the engine's clock: in "auto" mode it picks the
// winner and sends it to the remainder.
type DecideABTestsArgs struct{}

// Kind implements river.JobArgs.
func (DecideABTestsArgs) Kind() string { return "decide_ab_tests" }

// InsertOpts puts it on the default queue.
func (DecideABTestsArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueDefault} }

// decideABTestsEvery is how often due tests are looked for: a test ends
// at most this long after its duration.
const decideABTestsEvery = time.Minute

// DecideABTestsWorker works DecideABTestsArgs.
type DecideABTestsWorker struct {
	river.WorkerDefaults[DecideABTestsArgs]
	Engine *Engine
}

// Work decides each due test in its own transaction.
func (w *DecideABTestsWorker) Work(ctx context.Context, _ *river.Job[DecideABTestsArgs]) error {
	ids, err := campaigns.DueABTests(ctx, w.Engine.cfg.Pool, w.Engine.Now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := w.Engine.decideABTest(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// decideABTest picks the winner of campaign id's test by its metric (the
// highest posterior mean) and, in the same transaction, enqueues the
// remainder's send.
func (e *Engine) decideABTest(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
		c, err := campaigns.GetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.ABTest == nil || c.ABTest.Winner == campaigns.ABWinnerManual {
			return nil // the marketer picks (DueABTests leaves these out)
		}
		_, leader, reason, err := campaigns.Standing(ctx, tx, &c, e.currency(c))
		if err != nil || leader == "" {
			return err
		}
		if err := campaigns.ChooseWinner(ctx, tx, id, leader, campaigns.ABWinnerAuto, reason, e.Now()); err != nil {
			return err
		}
		e.Logger.InfoContext(ctx, "A/B test decided", slog.Int64("campaign_id", id), slog.String("winner", leader), slog.String("reason", reason))
		return e.SendRemainderTx(ctx, tx, id)
	})
}

// currency is c's reporting currency (as the report's).
func (e *Engine) currency(c campaigns.Campaign) string {
	switch {
	case c.Settings.Currency != "":
		return c.Settings.Currency
	case e.cfg.Currency != "":
		return e.cfg.Currency
	}
	return campaigns.DefaultCurrency
}

// SendRemainderTx implements campaigns.RemainderSender: it enqueues the
// winner's send to the test's remainder inside tx.
func (e *Engine) SendRemainderTx(ctx context.Context, tx pgx.Tx, campaignID int64) error {
	if _, err := e.client.InsertTx(ctx, tx, RemainderArgs{CampaignID: campaignID}, nil); err != nil {
		return fmt.Errorf("enqueue A/B remainder: %w", err)
	}
	return nil
}

// RemainderArgs sends an A/B test's winner to the contacts held back.
type RemainderArgs struct {
	CampaignID int64 `json:"campaign_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (RemainderArgs) Kind() string { return "ab_remainder" }

// InsertOpts puts it on the launch queue, one pending per campaign.
func (RemainderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueLaunch, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// RemainderWorker works RemainderArgs.
type RemainderWorker struct {
	river.WorkerDefaults[RemainderArgs]
	Engine *Engine
}

// Work walks the remainder from its cursor like a launch walks a segment:
// each page commits the winner's deliveries (unique per campaign, step and
// contact), their send jobs and the cursor together, so a crash resumes
// where the last commit left off and sends no one twice. The sends go
// through the normal send path (throttle, suppressions, frequency cap).
func (w *RemainderWorker) Work(ctx context.Context, job *river.Job[RemainderArgs]) error {
	e, id := w.Engine, job.Args.CampaignID
	c, err := campaigns.Get(ctx, e.cfg.Pool, id)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	batch := sendBatchSize(c.ThrottlePerSecond)
	sliceEnd := time.Now().Add(launchSlice)
	for done := false; !done; {
		if time.Now().After(sliceEnd) {
			return river.JobSnooze(time.Millisecond)
		}
		err := pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) (err error) {
			done, err = remainderPage(ctx, tx, client, &c, batch, e.Now())
			return err
		})
		if err != nil {
			return fmt.Errorf("A/B remainder of campaign %d: %w", id, err)
		}
	}
	return pgx.BeginFunc(ctx, e.cfg.Pool, func(tx pgx.Tx) error {
		_, err := finishIfDone(ctx, tx, id)
		return err
	})
}

// remainderPage gives one page of the remainder the winner's deliveries
// and send jobs; done says the remainder is all given.
func remainderPage(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], c *campaigns.Campaign, batch int, now time.Time) (bool, error) {
	run, ok, err := campaigns.GetABRun(ctx, tx, c.ID)
	if err != nil || !ok || run.Winner == "" || run.RemainderDone {
		return true, err
	}
	status, _, err := campaigns.StatusOf(ctx, tx, c.ID)
	if err != nil {
		return false, err
	}
	if status == campaigns.StatusCancelled {
		return true, campaigns.AdvanceRemainder(ctx, tx, c.ID, 0, true, now) // nothing more goes out
	}
	page, err := campaigns.RemainderPage(ctx, tx, c.ID, launchPage)
	if err != nil {
		return false, err
	}
	winners := make([]string, len(page))
	for i := range winners {
		winners[i] = run.Winner
	}
	ids, err := deliveries.CreateVariants(ctx, tx, c.ID, run.Step, page, winners)
	if err != nil {
		return false, err
	}
	if err := tracking.AddCounts(ctx, tx, []tracking.Count{{CampaignID: c.ID, Step: run.Step, Metric: tracking.MetricDeliveries, At: now, N: int64(len(ids))}}); err != nil {
		return false, err
	}
	if err := enqueueSends(ctx, tx, client, c.ID, ids, batch); err != nil {
		return false, err
	}
	done := len(page) < launchPage
	var last int64
	if len(page) > 0 {
		last = page[len(page)-1]
	}
	return done, campaigns.AdvanceRemainder(ctx, tx, c.ID, last, done, now)
}
