package messages

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// QueueMessages is the River queue of transactional messages: their own,
// so a large campaign never delays a password reset.
const QueueMessages = "messages"

// SendArgs is one message to send (worked by engine.MessageWorker).
type SendArgs struct {
	MessageID  int64 `json:"message_id"`
	DeliveryID int64 `json:"delivery_id"`
	CampaignID int64 `json:"campaign_id"`
	// Transactional and Data are the message's, carried in the job so the
	// worker does not read the message row back.
	Transactional bool           `json:"transactional,omitempty"`
	Data          map[string]any `json:"data,omitempty"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "message" }

// MaxAttempts is how many times a message's job runs: its delivery gives
// up after the engine's delivery attempts (temporary failures), and the
// job has a few more for failures before it claims.
const MaxAttempts = 10

// InsertOpts puts messages on their own queue.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMessages, MaxAttempts: MaxAttempts}
}

// ExpireKeysArgs is the periodic sweep of idempotency keys.
type ExpireKeysArgs struct{}

// Kind implements river.JobArgs.
func (ExpireKeysArgs) Kind() string { return "expire_message_keys" }

// ExpireKeysWorker releases idempotency keys older than KeyTTL, in
// batches, so the key index holds about a day of keys.
type ExpireKeysWorker struct {
	river.WorkerDefaults[ExpireKeysArgs]
	Pool   *pgxpool.Pool
	Now    func() time.Time
	Logger *slog.Logger
}

// Work releases expired keys 10,000 at a time until none is left.
func (w *ExpireKeysWorker) Work(ctx context.Context, _ *river.Job[ExpireKeysArgs]) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	var total int64
	for {
		n, err := ExpireKeys(ctx, w.Pool, now(), 10000)
		if err != nil {
			return err
		}
		total += n
		if n < 10000 {
			break
		}
	}
	if total > 0 && w.Logger != nil {
		w.Logger.InfoContext(ctx, "released idempotency keys", slog.Int64("keys", total))
	}
	return nil
}

// PeriodicExpireKeys runs ExpireKeysWorker every hour.
func PeriodicExpireKeys() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return ExpireKeysArgs{}, nil
	}, nil)
}

// BatchArgs is a group of messages stored together (one API transaction),
// sent by one job (engine.MessageBatchWorker): one claim, one contact read
// and one recording for all of them. Messages stored before batching were
// one SendArgs job each; both kinds are worked.
type BatchArgs struct {
	Messages []SendArgs `json:"messages"`
}

// Kind implements river.JobArgs.
func (BatchArgs) Kind() string { return "message_batch" }

// InsertOpts puts message batches on the messages queue; a retry resends
// only the batch's messages still queued (temporary failures).
func (BatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMessages, MaxAttempts: MaxAttempts}
}

// MaxBatchJob is the most messages one BatchArgs job carries: a group
// larger than this is split, so several workers and SMTP connections
// share it.
const MaxBatchJob = 32
