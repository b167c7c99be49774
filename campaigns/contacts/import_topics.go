package contacts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns/topics"
)

// The CSV import's topics column: topic names separated like tags (the
// import's tag separator), each naming a live topic (case-insensitive).
// A line naming a topic that does not exist is rejected with its line
// number: topics are created by a marketer first, never by a file. Each
// contact the import writes is subscribed (source import, one consent
// record each) to the topics it has no state on yet; an existing state
// (subscribed, pending, or unsubscribed) stays, so a re-import never
// re-subscribes someone who left a topic. In skip-existing mode only the
// contacts this import created are subscribed.

// hasTopics reports whether the header has a topics column.
func (p *csvParser) hasTopics() bool { return slices.Contains(p.roles, colTopics) }

// loadTopics reads the live topics for the topics column.
func (p *csvParser) loadTopics(ctx context.Context, db DBTX) error {
	list, err := topics.List(ctx, db, false, false)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	p.topicIDs = make(map[string]int64, len(list))
	for _, t := range list {
		p.topicIDs[strings.ToLower(t.Name)] = t.ID
	}
	return nil
}

// topicsOf resolves a topics field to topic ids, or says why the line is
// rejected.
func (p *csvParser) topicsOf(v string) ([]int64, string) {
	var ids []int64
	for _, name := range p.opts.splitTags(v) {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		id, ok := p.topicIDs[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Sprintf("topics: no topic named %q (create it first)", name)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, ""
}

// subscribeTopics subscribes the batch's contacts to their rows' topics,
// in the batch's transaction.
func (w *importWorker) subscribeTopics(ctx context.Context, tx pgx.Tx, batch []importRow) error {
	var keys []string
	for i := range batch {
		if len(batch[i].topics) > 0 {
			keys = append(keys, batch[i].key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT c.email_key, c.id FROM contacts c JOIN import_seen s ON s.email_key = c.email_key
		WHERE c.email_key = ANY ($1::text[]) AND c.status <> 'erased' AND ($2 = 'upsert' OR s.created)`, keys, w.im.mode)
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	ids := map[string]int64{}
	var key string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &id}, func() error { ids[key] = id; return nil }); err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	var cs, ts []int64
	for i := range batch {
		cid, ok := ids[batch[i].key]
		if !ok {
			continue
		}
		for _, t := range batch[i].topics {
			cs, ts = append(cs, cid), append(ts, t)
		}
	}
	_, err = topics.SubscribeNew(ctx, tx, cs, ts, topics.Source{Kind: topics.SourceImport})
	return err
}
