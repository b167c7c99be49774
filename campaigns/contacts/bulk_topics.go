package contacts

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

// bulkSource is who asked for a bulk subscribe or unsubscribe, kept with
// the job's selector so the worker records it on each consent change.
type bulkSource struct {
	Kind   topics.SourceKind `json:"kind"`
	UserID int64             `json:"user_id,omitempty"`
}

// bulkSource is in's Source as the job keeps it (nil for other actions).
func (in *BulkInput) bulkSource() *bulkSource {
	if in.Action != BulkSubscribe && in.Action != BulkUnsubscribe {
		return nil
	}
	kind := in.Source.Kind
	if kind == "" {
		kind = topics.SourceAPI
	}
	return &bulkSource{Kind: kind, UserID: in.Source.UserID}
}

// normalizeTopic checks the topic of a subscribe or unsubscribe.
func (in *BulkInput) normalizeTopic() []*errs.Error {
	var list []*errs.Error
	if in.TopicID <= 0 {
		list = append(list, errs.Field("topic_id", "name the topic to %s (its id)", in.Action))
	}
	if in.Tag != "" {
		list = append(list, errs.Field("tag", "goes only with the tag and untag actions"))
	}
	return list
}

// checkTopic makes sure a subscribe's or unsubscribe's topic exists.
func (in *BulkInput) checkTopic(ctx context.Context, db DBTX) error {
	if in.TopicID == 0 {
		return nil
	}
	_, err := topics.ByIDs(ctx, db, "topic_id", []int64{in.TopicID})
	return err
}

// setTopic subscribes or unsubscribes the batch's contacts (erased and
// unknown ones aside) on the job's topic, each change with its consent
// record, and returns how many contacts it applied to.
func (w *BulkWorker) setTopic(ctx context.Context, tx pgx.Tx, j BulkJob, ids []int64) (int64, error) {
	if j.TopicID == nil {
		return 0, fmt.Errorf("bulk job %d: %s without a topic", j.ID, j.Action)
	}
	rows, err := tx.Query(ctx, query("bulk_live_ids"), ids)
	if err != nil {
		return 0, fmt.Errorf("bulk job %d: %w", j.ID, err)
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("bulk job %d: %w", j.ID, err)
	}
	status := topics.Subscribed
	if j.Action == BulkUnsubscribe {
		status = topics.Unsubscribed
	}
	src := topics.Source{Kind: topics.SourceAPI, Detail: map[string]any{"bulk_id": j.ID}}
	if s := j.selector.Source; s != nil {
		src.Kind, src.UserID = s.Kind, s.UserID
	}
	if _, err := topics.SetMany(ctx, tx, live, *j.TopicID, status, src); err != nil {
		return 0, fmt.Errorf("bulk job %d: %w", j.ID, err)
	}
	return int64(len(live)), nil
}
