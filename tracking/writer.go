package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/pgerr"
)

// request is one event waiting for its batch to commit. Requests are
// reused (requests): done carries one signal per use, sent by the writer
// once out and err are set, after which the writer no longer touches it.
type request struct {
	ev   Event
	at   time.Time // when it was queued
	out  Outcome
	err  error
	done chan struct{} // capacity 1
}

// requests recycles requests and their channels: thousands of clicks a
// second would otherwise allocate both for each.
var requests = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// writer group-commits events: it gathers up to size requests, or what
// arrives within wait of the first, records them in one transaction and only
// then answers each request. Several writers may run; they lock deliveries
// and rollup rows in a fixed order, so they never deadlock each other.
type writer struct {
	pool    *pgxpool.Pool
	applier *applier
	logger  *slog.Logger
	size    int
	wait    time.Duration
	timeout time.Duration // per batch: a database that does not answer fails it
	// rec records a batch in one transaction (nil: record, everything in
	// the events' own transaction; the click path's inbox sets its own).
	// It must not change the events: a retry hands it the same ones.
	rec func(ctx context.Context, evs []*Event) ([]Outcome, []error, error)
	// committed, when set, is called after each batch that committed (it
	// wakes the follower).
	committed func()

	// busy counts the loops recording a batch; idle wakes a gathering
	// loop when it drops to zero.
	busy atomic.Int32
	idle chan struct{}

	mu              sync.RWMutex
	closed          bool
	in              chan *request
	wg              sync.WaitGroup
	commits, events int64 // for tests and metrics, under statsMu
	statsMu         sync.Mutex
}

// submit hands ev to the writer and waits until it is durable (nil), refused
// (ErrNotFound) or could not be recorded (ErrUnavailable).
// The writer keeps a copy of *ev.
func (w *writer) submit(ctx context.Context, ev *Event) (Outcome, error) {
	r := requests.Get().(*request)
	r.ev, r.at = *ev, time.Now()
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		w.recycle(r)
		return Outcome{}, ErrUnavailable
	}
	select {
	case w.in <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		w.recycle(r)
		return Outcome{}, ErrUnavailable
	}
	w.mu.RUnlock()
	// Once queued, the writer always answers (a batch has a timeout), so the
	// answer says exactly whether the event is stored.
	<-r.done
	out, err := r.out, r.err
	w.recycle(r)
	return out, err
}

// recycle clears r (nothing it held stays reachable) and returns it to
// requests; r's done channel is empty: its one signal was received.
func (w *writer) recycle(r *request) {
	r.ev, r.out, r.err = Event{}, Outcome{}, nil
	requests.Put(r)
}

func (w *writer) start(n int) {
	for range n {
		w.wg.Add(1)
		go w.loop()
	}
}

// stop refuses new events, writes those queued and waits for the loops.
func (w *writer) stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracking: stop writer: %w", ctx.Err())
	}
}

func (w *writer) loop() {
	defer w.wg.Done()
	batch := make([]*request, 0, w.size)
	for {
		first, ok := <-w.in
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		// Gather while another batch is being recorded, for at most
		// BatchWait from the first event's arrival; go as soon as the
		// database has nothing to do: at low load every event is written
		// at once, under load a batch is what arrived during the previous
		// one.
		timer := time.NewTimer(max(0, w.wait-time.Since(first.at)))
	gather:
		for len(batch) < w.size {
			select {
			case r, ok := <-w.in:
				if !ok {
					break gather
				}
				batch = append(batch, r)
				continue
			default:
			}
			if w.busy.Load() == 0 {
				break gather
			}
			select {
			case r, ok := <-w.in:
				if !ok {
					break gather
				}
				batch = append(batch, r)
			case <-w.idle:
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		w.busy.Add(1)
		w.flush(batch)
		if w.busy.Add(-1) == 0 {
			select {
			case w.idle <- struct{}{}:
			default:
			}
		}
	}
}

// flush records a batch and answers its requests. A batch that fails on bad
// data is split until the bad event is alone; a deadlock or serialization
// failure is retried; a database that is down fails the batch fast
// (ErrUnavailable) and the next batch tries again.
func (w *writer) flush(batch []*request) {
	err := w.commit(batch)
	for attempt := 0; err != nil && pgerr.Retryable(err) && attempt < 3; attempt++ {
		err = w.commit(batch)
	}
	switch {
	case err == nil:
	case dataError(err) && len(batch) > 1:
		w.flush(batch[:len(batch)/2])
		w.flush(batch[len(batch)/2:])
		return
	case dataError(err):
		w.logger.Error("tracking: event refused by the database", slog.String("type", batch[0].ev.Type),
			slog.Int64("delivery_id", batch[0].ev.DeliveryID), slog.Any("error", err))
		batch[0].err = fmt.Errorf("tracking: record event: %w", ErrUnavailable)
	default:
		w.logger.Warn("tracking: batch not recorded", slog.Int("events", len(batch)), slog.Any("error", err))
		for _, r := range batch {
			r.err = ErrUnavailable
		}
	}
	for _, r := range batch {
		r.done <- struct{}{} // never blocks: one signal per use, capacity 1
	}
}

// errPanic marks a batch whose processing panicked (a bug): it is split like
// a batch with bad data, so the event that triggers it fails alone and the
// writer keeps running.
var errPanic = errors.New("tracking: writer panic")

func (w *writer) commit(batch []*request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	evs := make([]*Event, len(batch))
	rec := w.rec
	for i, r := range batch {
		if rec != nil {
			evs[i] = &r.ev // rec leaves the events as they are
			continue
		}
		cp := r.ev // classification mutates; a retry starts from the original
		evs[i] = &cp
	}
	if rec == nil {
		rec = w.record
	}
	outs, errsOut, err := rec(ctx, evs)
	if err != nil {
		return err
	}
	if w.committed != nil {
		w.committed()
	}
	for i, r := range batch {
		r.out, r.err = outs[i], errsOut[i]
	}
	w.statsMu.Lock()
	w.commits++
	w.events += int64(len(batch))
	w.statsMu.Unlock()
	return nil
}

// record writes evs in one transaction of three round trips: BEGIN travels
// with the first statements (the delivery locks) and COMMIT with the
// writing ones (more when rule jobs are enqueued or clicks reclassified).
func (w *writer) record(ctx context.Context, evs []*Event) ([]Outcome, []error, error) {
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	first := &pgx.Batch{}
	first.BeginTx(pgx.TxOptions{})
	outs, errsOut, tx, rest, err := w.applier.applyWith(ctx, first, func(b *pgx.Batch) (pgx.Tx, error) {
		br := conn.SendBatch(ctx, b)
		return br.Tx(), br.Close()
	}, evs, nil)
	if err == nil {
		rest.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
			if ct.String() != "COMMIT" {
				return pgx.ErrTxCommitRollback
			}
			return nil
		})
		err = tx.SendBatch(ctx, rest).Close()
	}
	if err != nil {
		// Rolling back a transaction a failed statement or COMMIT ended
		// is harmless; a connection that cannot is closed, and the pool
		// replaces it.
		if tx != nil && conn.Conn().PgConn().TxStatus() != 'I' {
			_ = tx.Rollback(ctx)
		}
		return nil, nil, err
	}
	return outs, errsOut, nil
}

// Stats are the writers' counters since start: their commits and the
// events they stored, and the follower's folds and the events it folded.
type Stats struct {
	Commits, Events int64
	Folds, Folded   int64
}

func (w *writer) stats() Stats {
	w.statsMu.Lock()
	defer w.statsMu.Unlock()
	return Stats{Commits: w.commits, Events: w.events}
}

// dataError: the database refused the data (a constraint, a type, a
// value), as opposed to being unreachable, shutting down, refusing
// connections or out of resources. Only data errors are worth splitting a
// batch over.
func dataError(err error) bool {
	if errors.Is(err, errPanic) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return false
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "21", "22", "23", "42", "44", "P0":
		return true
	}
	return false
}
