package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/campaigns"
)

// FollowUpsWaiting counts what campaign id's rules have scheduled and not
// yet run, in deliveries: per timer rule, the deliveries whose check is
// still to come; per rule and step, the sends waiting out the rule's delay.
// A job counts while River holds it as scheduled or available. Sends
// enqueued before their args named the rule are not counted.
func FollowUpsWaiting(ctx context.Context, db DBTX, id int64) (campaigns.FollowUps, error) {
	w := campaigns.FollowUps{Timers: map[string]int64{}, Sends: map[string]map[string]int64{}}
	rows, err := db.Query(ctx, queries.Get("follow_ups_waiting"), id)
	if err != nil {
		return w, fmt.Errorf("follow-ups waiting of campaign %d: %w", id, err)
	}
	var kind, rule, step string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &rule, &step, &n}, func() error {
		switch {
		case kind == TimerArgs{}.Kind():
			w.Timers[rule] += n
		case kind == SendArgs{}.Kind() || slices.Contains(SendArgs{}.KindAliases(), kind):
			if w.Sends[rule] == nil {
				w.Sends[rule] = map[string]int64{}
			}
			w.Sends[rule][step] += n
		}
		return nil
	})
	if err != nil {
		return w, fmt.Errorf("follow-ups waiting of campaign %d: %w", id, err)
	}
	return w, nil
}

// FollowUps implements campaigns.Runtime (FollowUpsWaiting).
func (e *Engine) FollowUps(ctx context.Context, campaignID int64) (campaigns.FollowUps, error) {
	return FollowUpsWaiting(ctx, e.cfg.Pool, campaignID)
}
