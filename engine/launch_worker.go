package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/errs"
)

// LaunchArgs starts (or continues) a campaign's launch: walk the segment and
// create the first step's deliveries and their send jobs.
type LaunchArgs struct {
	CampaignID int64 `json:"campaign_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (LaunchArgs) Kind() string { return "launch" }

// InsertOpts puts launches on their queue, one pending launch per campaign.
func (LaunchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueLaunch, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		// Not completed/cancelled/discarded: a campaign relaunched after a
		// finished launch is refused by its status, not by River.
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// launchPage is how many contacts one launch transaction handles.
const launchPage = 2000

// LaunchWorker works LaunchArgs.
type LaunchWorker struct {
	river.WorkerDefaults[LaunchArgs]
	Pool *pgxpool.Pool
	baseservice.Base
	// Started, when set, is called when a campaign has started running
	// (the engine forgets its list of running triggered campaigns).
	Started func()
}

// launchSlice is how long one run of a launch job walks before it hands
// the rest to its next run, so no job runs long enough to look stuck.
const launchSlice = 20 * time.Second

// Work walks the segment from the saved cursor. Each page commits its
// deliveries, their send jobs and the new cursor together, so a crash
// resumes exactly where the last commit left off, and re-running a page
// creates nothing twice (deliveries are unique per campaign, step and contact).
func (w *LaunchWorker) Work(ctx context.Context, job *river.Job[LaunchArgs]) error {
	id := job.Args.CampaignID
	var running bool
	if err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) (err error) {
		running, err = campaigns.Start(ctx, tx, id)
		return err
	}); err != nil {
		return err
	}
	if !running {
		w.Logger.InfoContext(ctx, "launch skipped: campaign not runnable", slog.Int64("campaign_id", id))
		return nil
	}
	if w.Started != nil {
		w.Started()
	}
	c, err := campaigns.Get(ctx, w.Pool, id)
	if err != nil {
		return err
	}
	if c.Triggered() {
		// Contacts enter one by one while it runs (Engine.Enter): there is
		// no segment to walk, and it does not finish when a step drains.
		w.Logger.InfoContext(ctx, "triggered campaign running", slog.Int64("campaign_id", id))
		return nil
	}
	if (c.SegmentID == nil && len(c.TopicIDs) == 0) || len(c.Steps) == 0 {
		return river.JobCancel(fmt.Errorf("campaign %d has no segment or steps", id))
	}
	// The segment, restricted to its topics' subscribers when it has any.
	rule, err := campaigns.Audience(ctx, w.Pool, c)
	if errs.Is(err, errs.Invalid) {
		return river.JobCancel(fmt.Errorf("campaign %d segment: %w", id, err))
	}
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	step := c.Steps[0].Key
	batch := sendBatchSize(c.ThrottlePerSecond)
	total := 0
	sliceEnd := time.Now().Add(launchSlice)
	for {
		if time.Now().After(sliceEnd) {
			w.Logger.InfoContext(ctx, "campaign launch continues", slog.Int64("campaign_id", id), slog.Int("deliveries", total))
			return river.JobSnooze(time.Millisecond)
		}
		var done bool
		err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
			st, err := campaigns.GetLaunchState(ctx, tx, id)
			if err != nil {
				return err
			}
			if st.Done {
				done = true
				return nil
			}
			page, err := segments.MatchPageAt(ctx, tx, rule, w.Now(), st.Cursor, launchPage)
			if err != nil {
				return err
			}
			if page, err = onChannel(ctx, tx, &c, page); err != nil {
				return err
			}
			if page, err = withoutHoldout(ctx, tx, &c, page, w.Now()); err != nil {
				return err
			}
			ids, err := launchDeliveries(ctx, tx, &c, step, page.IDs, w.Now())
			if err != nil {
				return err
			}
			if err := enqueueSends(ctx, tx, client, id, ids, batch); err != nil {
				return err
			}
			total += len(ids)
			done = page.Done
			return campaigns.AdvanceLaunch(ctx, tx, id, page.Last, page.Suppressed, page.Done)
		})
		if errs.Is(err, errs.Invalid) {
			// The segment cannot be judged for some contact (its rule ran
			// past its evaluation budget): running again gives the same
			// answer, so stop with the reason instead of retrying.
			w.Logger.ErrorContext(ctx, "campaign launch stopped", slog.Int64("campaign_id", id), slog.String("error", err.Error()))
			return river.JobCancel(fmt.Errorf("launch campaign %d: segment: %w", id, err))
		}
		if err != nil {
			return fmt.Errorf("launch campaign %d: %w", id, err)
		}
		if done {
			break
		}
	}
	w.Logger.InfoContext(ctx, "campaign launch complete", slog.Int64("campaign_id", id), slog.Int("deliveries", total))
	// An empty walk (everything suppressed meanwhile) finishes here.
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		_, err := finishIfDone(ctx, tx, id)
		return err
	})
}

// sendBatchSize sizes send jobs: large for unthrottled campaigns, about five
// seconds' worth for throttled ones so a job never runs long.
func sendBatchSize(throttle float64) int {
	const maxBatch = 200
	if throttle <= 0 {
		return maxBatch
	}
	return min(maxBatch, max(1, int(throttle*5)))
}

// enqueueSends inserts send jobs covering ids in batches.
func enqueueSends(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], campaignID int64, ids []int64, batch int) error {
	if len(ids) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(ids)/batch+1)
	for start := 0; start < len(ids); start += batch {
		end := min(start+batch, len(ids))
		params = append(params, river.InsertManyParams{Args: SendArgs{CampaignID: campaignID, DeliveryIDs: ids[start:end]}})
	}
	if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue sends: %w", err)
	}
	return nil
}
