package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchdb"
	"github.com/peykar/peykar/bench/internal/benchserve"
)

// followerLock is the key of the advisory lock peykar's follower takes for
// each fold (tracking/queries.sql, follower_lock): a session holding it
// keeps every follower from folding, so clicks wait in event_inbox.
const followerLock = `hashtextextended('peykar/tracking/follower', 0)`

// backlog answers n clicks (distinct tokens, 32 connections) while this
// process holds the follower's lock, so they all wait in event_inbox as
// when the follower has fallen behind; then it lets the follower go and
// measures the time, the CPU (peykar and PostgreSQL) and the WAL until the
// inbox is empty (with migration 053: until the watermark reaches the
// sequence): the cost of folding a backlog, which is when the fold
// must be fastest. The follower notices the lock is free at its next poll
// or wake-up (peykar's FoldPoll, 100 ms by default), inside the window.
func backlog(ctx context.Context, cfg config, urls []string, srv *benchserve.Peykar, pool *pgxpool.Pool, probe *probes, pgData string) (clickResult, error) {
	var res clickResult
	if !hasInbox(ctx, pool) {
		return res, fmt.Errorf("-backlog: the binary's schema has no event_inbox")
	}
	n := min(cfg.backlog, len(urls))
	holder, err := pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock(`+followerLock+`)`); err != nil {
		return res, fmt.Errorf("hold the follower's lock: %w", err)
	}
	held := true
	defer func() {
		if held {
			_, _ = holder.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+followerLock+`)`)
		}
	}()

	var next, found, other atomic.Int64
	t0 := time.Now()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			client := &rawClient{addr: srv.Base[len("http://"):]}
			defer client.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				code, _, err := client.get(urls[i])
				if err == nil && code == http.StatusFound {
					found.Add(1)
				} else {
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.found, res.other = found.Load(), other.Load()
	// On a schema with the watermark (migration 053) the clicks wait in
	// events, followed above it; otherwise in event_inbox.
	waitingQ, drainedQ, where := `SELECT count(*) FROM event_inbox`, `SELECT (SELECT min(id) FROM event_inbox) IS NULL`, "event_inbox"
	if hasWatermark(ctx, pool) {
		waitingQ = `SELECT count(*) FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark)`
		// A probe of events' key between the watermark and the sequence
		// (bounded both ways, as tracking's own reads of the tail).
		drainedQ = `SELECT NOT EXISTS (SELECT 1 FROM events WHERE followed AND id > (SELECT id FROM tracking_watermark)
			AND id <= (SELECT last_value FROM events_id_seq))`
		where = "events above the watermark"
	}
	var waiting int64
	if err := pool.QueryRow(ctx, waitingQ).Scan(&waiting); err != nil {
		return res, err
	}
	fmt.Printf("backlog: %d clicks answered (302) in %s with the follower held off (other answers/errors %d); %d wait in %s\n",
		res.found, time.Since(t0).Round(time.Millisecond), res.other, waiting, where)
	if waiting != res.found {
		return res, fmt.Errorf("MISMATCH: %d clicks answered but %d wait in %s", res.found, waiting, where)
	}

	if cfg.writes {
		// The answers' counters flushed first, so the difference is the
		// fold's alone.
		time.Sleep(statsFlush)
		if res.writesBefore, err = writeCounts(ctx, pool); err != nil {
			return res, err
		}
	}
	lsn0 := walPosition(ctx, probe.Pool)
	probe0, db0, app0 := probe.cpu(), benchdb.SampleCPU(pgData), srv.CPU()
	start := time.Now()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock(`+followerLock+`)`); err != nil {
		return res, fmt.Errorf("release the follower's lock: %w", err)
	}
	held = false
	for {
		// Two index probes (or two one-row reads): no scan while it drains.
		var empty bool
		if err := probe.QueryRow(ctx, drainedQ).Scan(&empty); err != nil {
			return res, err
		}
		if empty {
			break
		}
		if time.Since(start) > cfg.settle {
			return res, fmt.Errorf("backlog not folded after %s", cfg.settle)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.elapsed = time.Since(start)
	lsn1 := walPosition(ctx, probe.Pool)
	probe1 := probe.cpu()
	res.cpu, res.appCPU = benchdb.SampleCPU(pgData).Sub(db0), srv.CPU()-app0
	res.chargeProbes(probe1 - probe0)
	res.walBytes = walBetween(ctx, pool, lsn0, lsn1)
	res.walFrom, res.walTo = lsn0, lsn1
	fmt.Printf("backlog folded: %d clicks in %s = %.0f clicks/s; cpu peykar %.2fs, PostgreSQL %.2fs = peykar %s, PostgreSQL %s per click; wal %d bytes per click\n",
		res.found, res.elapsed.Round(time.Millisecond), float64(res.found)/res.elapsed.Seconds(),
		res.appCPU.Seconds(), res.cpu.DB.Seconds(), per(res.appCPU, res.found), per(res.cpu.DB, res.found), res.walBytes/max(res.found, 1))
	fmt.Printf("the bench's own drain polls: PostgreSQL %s per click, left out of the figures above (with them: PostgreSQL %s per click)\n",
		per(res.probeCPU, res.found), per(res.cpu.DB+res.probeCPU, res.found))
	return res, nil
}
