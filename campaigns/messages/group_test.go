package messages

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// holdInserts locks the messages table against inserts until the returned
// function is called: a group that reaches its insert waits there, and
// the requests arriving meanwhile pile up for the next group.
func holdInserts(t *testing.T, s *Service) func() {
	t.Helper()
	ctx := context.Background()
	tx, err := s.cfg.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE messages IN EXCLUSIVE MODE`)
	require.NoError(t, err)
	var once sync.Once
	release := func() { once.Do(func() { require.NoError(t, tx.Rollback(ctx)) }) }
	t.Cleanup(release)
	return release
}

// waitFor polls until n callers wait for the group's next write.
func waitFor(t *testing.T, s *Service, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return s.group.Waiting() >= n }, time.Minute, 5*time.Millisecond,
		"%d requests waiting (%d now)", n, s.group.Waiting())
}

// TestConcurrentSendsShareTransactions: 300 concurrent requests with
// distinct keys store 300 messages, each once and each with its own
// delivery, in a handful of transactions and far fewer River jobs, which
// carry every message exactly once.
func TestConcurrentSendsShareTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, receipt, _ := setup(t, nil)
	s.group.Writers = 1 // one group at a time, so the test knows how they form
	release := holdInserts(t, s)
	const n = 300
	answers := make([]Answer, n)
	errsOf := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errsOf[i] = s.Send(ctx, fmt.Sprintf("key-%d", i), Input{TemplateID: receipt.ID,
				To: fmt.Sprintf("buyer%d@example.com", i%40), Data: map[string]any{"order_id": i}, Transactional: true})
		}()
	}
	waitFor(t, s, n-1) // one group holds the lock's wait; the rest wait for it
	release()
	wg.Wait()
	ids := map[int64]bool{}
	for i := range n {
		require.NoError(t, errsOf[i], "request %d", i)
		require.False(t, answers[i].Replayed)
		ids[answers[i].ID] = true
	}
	require.Len(t, ids, n, "a message per request")

	var msgs, dels, txs, contacts int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT delivery_id), count(DISTINCT xmin::text::bigint),
		count(DISTINCT contact_id) FROM messages`).Scan(&msgs, &dels, &txs, &contacts))
	require.Equal(t, n, msgs)
	require.Equal(t, n, dels, "a delivery per message")
	require.Equal(t, 40, contacts, "repeated addresses share their contact")
	require.LessOrEqual(t, txs, 3, "the held group, then groups of at most 256")
	var jobs, carried, distinct int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(DISTINCT j.id), count(*), count(DISTINCT m->>'message_id')
		FROM river_job j, jsonb_array_elements(j.args->'messages') m WHERE j.kind = 'message_batch'`).Scan(&jobs, &carried, &distinct))
	require.Equal(t, n, carried, "every message in a job")
	require.Equal(t, n, distinct, "once")
	require.LessOrEqual(t, jobs, 1+n/MaxBatchJob+2, "a job per %d messages of a group", MaxBatchJob)
	var orphans int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*) FROM messages m
		JOIN deliveries d ON d.id = m.delivery_id WHERE d.round <> m.id OR d.contact_id <> m.contact_id`).Scan(&orphans))
	require.Zero(t, orphans, "each delivery is its message's round, to its contact")
}

// TestSameKeyInOneGroup: 50 concurrent requests with one key, stored in
// the same group, make one message; every answer names it (49 replays); a
// different request with that key in the group is refused; and later
// requests with the key replay it.
func TestSameKeyInOneGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, receipt, _ := setup(t, nil)
	s.group.Writers = 1 // one group at a time, so the test knows how they form
	release := holdInserts(t, s)
	in := Input{TemplateID: receipt.ID, To: "sara@example.com", Data: map[string]any{"order_id": "A-1"}, Transactional: true}
	blocker := make(chan error, 1)
	go func() {
		_, err := s.Send(ctx, "blocker", in) // its group waits for the lock
		blocker <- err
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		err := s.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'messages'::regclass AND NOT granted)`).Scan(&waiting)
		return err == nil && waiting
	}, time.Minute, 5*time.Millisecond, "the blocker's group waits for the lock")

	const n = 50
	answers := make([]Answer, n)
	errsOf := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errsOf[i] = s.Send(ctx, "same", in)
		}()
	}
	var otherErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		waitFor(t, s, n) // after the 50, in the same group
		other := in
		other.Data = map[string]any{"order_id": "B-2"}
		_, otherErr = s.Send(ctx, "same", other)
	}()
	waitFor(t, s, n+1)
	release()
	wg.Wait()
	require.NoError(t, <-blocker)

	replays := 0
	for i := range n {
		require.NoError(t, errsOf[i])
		require.Equal(t, answers[0].ID, answers[i].ID, "every answer names the one message")
		if answers[i].Replayed {
			replays++
		}
	}
	require.Equal(t, n-1, replays, "one first answer, the rest replays")
	require.Equal(t, "Idempotency-Key", fieldOf(t, otherErr), "another request with the key is refused")

	var msgs, txs int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT xmin::text::bigint) FROM messages`).Scan(&msgs, &txs))
	require.Equal(t, 2, msgs, "the blocker's and the one keyed message")
	require.Equal(t, 2, txs, "the 50 were one group")

	again, err := s.Send(ctx, "same", in)
	require.NoError(t, err)
	require.Equal(t, Answer{ID: answers[0].ID, Status: StatusQueued, Replayed: true}, again)
	var jobs int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT coalesce(sum(jsonb_array_length(args->'messages')), 0) FROM river_job
		WHERE kind = 'message_batch'`).Scan(&jobs))
	require.Equal(t, 2, jobs, "replays queue nothing")
}

// TestGroupKeyTakenMeanwhile: when another server process's transaction
// takes a key after the group read the held keys (uncommitted, so unseen),
// the group's insert waits for it, finds the key taken, and the group is
// stored again: the request answers the other's message, and the group's
// other request is stored once.
func TestGroupKeyTakenMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, receipt, _ := setup(t, nil)
	in := Input{TemplateID: receipt.ID, To: "sara@example.com", Data: map[string]any{"order_id": "A-1"}, Transactional: true}
	require.NoError(t, in.normalize())
	other := New(Config{Pool: s.cfg.Pool, River: s.cfg.River, From: s.cfg.From})
	tx, err := s.cfg.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	held := []*request{{key: "k", in: in, hash: in.hash()}}
	_, err = other.storeGroup(ctx, tx, held)
	require.NoError(t, err)
	require.NoError(t, held[0].err)

	type result struct {
		ans Answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		reqs := []*request{{key: "k", in: in, hash: in.hash()}, {key: "k2", in: in, hash: in.hash()}}
		err := s.writeGroup(ctx, reqs)
		if err == nil {
			err = reqs[1].err
		}
		done <- result{reqs[0].ans, err}
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		err := s.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted)`).Scan(&waiting)
		return err == nil && waiting
	}, time.Minute, 5*time.Millisecond, "the group's insert waits for the other transaction")
	require.NoError(t, tx.Commit(ctx))
	got := <-done
	require.NoError(t, got.err)
	require.Equal(t, Answer{ID: held[0].ans.ID, Status: StatusQueued, Replayed: true}, got.ans)
	var msgs, keyed int
	require.NoError(t, s.cfg.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE idempotency_key = 'k') FROM messages`).Scan(&msgs, &keyed))
	require.Equal(t, 2, msgs, "k's message and k2's")
	require.Equal(t, 1, keyed)
}
