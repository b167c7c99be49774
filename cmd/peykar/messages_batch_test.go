package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestMessagesConcurrentPostsBatched: 300 concurrent POSTs with distinct
// keys and 50 more with one shared key, all at once, through HTTP: every
// call is answered 202, the 50 with one answer; 301 messages are stored,
// in fewer transactions and River jobs than messages, and each is sent
// exactly once (301 emails in the catch-all, one per message).
func TestMessagesConcurrentPostsBatched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t)
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "receipt", "subject": "Receipt {{ .Data.order_id }}",
		"html": `<p>Order {{ .Data.order_id }}</p>`})
	const distinct, same = 300, 50
	codes := make([]int, distinct+same)
	bodies := make([]string, distinct+same)
	var wg sync.WaitGroup
	for i := range distinct + same {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key, order := fmt.Sprintf("order-%d", i), fmt.Sprint(i)
			if i >= distinct {
				key, order = "order-shared", "shared"
			}
			body := map[string]any{"template_id": tpl, "to": fmt.Sprintf("buyer%d@example.com", i%distinct), "data": map[string]any{"order_id": order}}
			if i >= distinct {
				body["to"] = "shared@example.com"
			}
			codes[i], bodies[i], _ = postMessage(t, m, marketer, key, body)
		}()
	}
	wg.Wait()
	ids := map[int64]bool{}
	for i := range codes {
		require.Equal(t, http.StatusAccepted, codes[i], bodies[i])
		ids[messageID(t, bodies[i])] = true
		if i > distinct {
			require.JSONEq(t, bodies[distinct], bodies[i], "one key, one answer")
		}
	}
	require.Len(t, ids, distinct+1)

	if !assert.Eventually(t, func() bool {
		var queued int
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE status = 'queued'`).Scan(&queued))
		return queued == 0
	}, 2*time.Minute, 50*time.Millisecond, "every message leaves queued") {
		// Say where the queued ones are: their deliveries and jobs.
		var where string
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(string_agg(format('%s×(delivery %s, attempts %s, job %s %s attempt %s, errors %s)',
				n, status, attempts, kind, state, attempt, errors), '; '), '')
			FROM (SELECT d.status, d.attempts, j.kind, j.state, j.attempt, j.errors::text AS errors, count(*) AS n
				FROM messages g JOIN deliveries d ON d.id = g.delivery_id
				LEFT JOIN river_job j ON j.id = d.claimed_by
				WHERE g.status = 'queued' GROUP BY 1, 2, 3, 4, 5, 6) q`).Scan(&where))
		t.Fatalf("messages still queued: %s", where)
	}
	var msgs, sent, txs, jobs, emails int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'sent'), count(DISTINCT xmin::text)
		FROM messages`).Scan(&msgs, &sent, &txs))
	require.Equal(t, distinct+1, msgs)
	require.Equal(t, distinct+1, sent)
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('message', 'message_batch')`).Scan(&jobs))
	require.Less(t, jobs, msgs, "messages share jobs")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE subject LIKE 'Receipt %'`).Scan(&emails))
	require.Equal(t, distinct+1, emails, "one email per message")
	var dup int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT subject FROM outbox_messages GROUP BY subject HAVING count(*) > 1) d`).Scan(&dup))
	require.Zero(t, dup, "no order's receipt twice")
}
