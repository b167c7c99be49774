package reports

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/internal/httpapi"
)

var deliveryHeader = []string{"delivery_id", "step", "contact_id", "email", "status", "attempts",
	"queued_at", "sent_at", "bounced_at", "first_open_at", "first_click_at", "unsubscribed_at", "complained_at",
	"opens", "total_opens", "clicks", "total_clicks", "conversions", "revenue", "last_error"}

// deliveryColumns are the delivery's own columns of the export (with the
// contact's email), in the order deliveryRow.decode reads them.
const deliveryColumns = `d.id, d.step, d.contact_id, coalesce(ct.email, ''), d.status, d.attempts,
	d.queued_at, d.sent_at, d.bounced_at, d.first_open_at, d.first_click_at, d.unsubscribed_at, d.complained_at, d.last_error`

// eventSummary is the aggregate of a campaign's events per delivery, in
// delivery id order: the columns eventCounts.decode reads. Only opens,
// clicks and conversions count; a delivery without any has no row. Only
// folded events count, as in every read of events for people
// (docs/metrics.md, "How a report is read"): a click or open whose
// derived state is not written yet (followed, above tracking_watermark,
// migration 053) is left out, so the export agrees with the report and
// the delivery's firsts in every snapshot.
const eventSummary = `SELECT delivery_id,
		count(*) FILTER (WHERE type = 'open' AND NOT machine),
		count(*) FILTER (WHERE type = 'open'),
		count(*) FILTER (WHERE type = 'click' AND NOT machine),
		count(*) FILTER (WHERE type = 'click'),
		count(*) FILTER (WHERE type = 'conversion'),
		coalesce(sum(value) FILTER (WHERE type = 'conversion'), 0)::float8
	FROM events WHERE campaign_id = $1 AND type IN ('open', 'click', 'conversion')
		AND (NOT followed OR id <= (SELECT id FROM tracking_watermark))
	GROUP BY delivery_id`

// exportSettings plan both export statements: no JIT, no parallel
// workers (each rescanned all events), a hash aggregate of the events
// rather than an index scan in delivery order (random heap reads, about
// 1.8 times slower at 5M events), and the memory to keep that aggregate
// and its sort off disk (a 1M-delivery campaign needs about 240 MB of
// hash table, which hash_mem_multiplier 2 allows, and 115 MB of sort).
var exportSettings = []string{`SET LOCAL jit = off`, `SET LOCAL max_parallel_workers_per_gather = 0`,
	`SET LOCAL work_mem = '128MB'`, `SET LOCAL enable_indexscan = off`}

// DeliveriesCSV is GET /campaigns/:id/deliveries.csv: every delivery of
// the campaign with a summary of its events (opens and clicks human and
// total, conversions, revenue), streamed row by row in delivery id order.
//
// Two connections share the work when the pool has a second one free: one
// streams the deliveries joined to their contacts in id order, the other
// the events aggregated per delivery in delivery id order, both in one
// exported snapshot, and Go merges the two sorted streams. Otherwise one
// statement joins the aggregate to the deliveries. Either way the rows are
// decoded from PostgreSQL's binary values and written as CSV bytes
// without a string per cell.
func (h *Handler) DeliveriesCSV(c echo.Context) error {
	id, err := httpapi.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.cfg.Report(ctx, id); err != nil {
		return err
	}
	opts := pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}
	db := h.readDB(c) // both transactions on one server: they share a snapshot
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("export deliveries: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, set := range exportSettings {
		if _, err := tx.Exec(ctx, set); err != nil {
			return fmt.Errorf("export deliveries: %w", err)
		}
	}
	events, err := h.eventsTx(ctx, db, tx, opts)
	if err != nil {
		return err
	}
	var summaries *summaryStream
	var rows pgx.Rows
	if events != nil {
		defer func() { _ = events.Rollback(context.WithoutCancel(ctx)) }()
		summaries = startSummaries(ctx, events, id)
		defer summaries.stop()
		rows, err = tx.Query(ctx, `SELECT `+deliveryColumns+`
			FROM deliveries d LEFT JOIN contacts ct ON ct.id = d.contact_id
			WHERE d.campaign_id = $1 ORDER BY d.id`, id)
	} else {
		rows, err = tx.Query(ctx, `SELECT `+deliveryColumns+`,
				coalesce(e.opens, 0), coalesce(e.total_opens, 0), coalesce(e.clicks, 0), coalesce(e.total_clicks, 0),
				coalesce(e.conversions, 0), coalesce(e.revenue, 0)
			FROM deliveries d
			LEFT JOIN contacts ct ON ct.id = d.contact_id
			LEFT JOIN (`+eventSummary+`) e (delivery_id, opens, total_opens, clicks, total_clicks, conversions, revenue)
				ON e.delivery_id = d.id
			WHERE d.campaign_id = $1 ORDER BY d.id`, id)
	}
	if err != nil {
		return fmt.Errorf("export deliveries: %w", err)
	}
	defer rows.Close()
	if err := checkFormats(rows.FieldDescriptions()); err != nil {
		return fmt.Errorf("export deliveries: %w", err)
	}
	out := h.startFastCSV(c, fmt.Sprintf("campaign-%d-deliveries.csv", id), deliveryHeader)
	var (
		d   deliveryRow
		e   eventCounts
		buf []byte
	)
	for rows.Next() {
		vals := rows.RawValues()
		if err := d.decode(vals); err != nil {
			return h.abort(c, "deliveries", err)
		}
		if summaries != nil {
			if e, err = summaries.next(d.id); err != nil {
				return h.abort(c, "deliveries", err)
			}
		} else if err := e.decode(vals[len(vals)-6:]); err != nil {
			return h.abort(c, "deliveries", err)
		}
		buf = appendDeliveryRow(buf[:0], &d, &e)
		if err := out.write(buf); err != nil {
			return h.abort(c, "deliveries", err)
		}
	}
	if err := rows.Err(); err != nil {
		return h.abort(c, "deliveries", err)
	}
	if summaries != nil {
		summaries.drain()
	}
	if err := out.close(); err != nil {
		return h.abort(c, "deliveries", err)
	}
	return nil
}

// eventsTx opens the second transaction, in tx's snapshot, when the pool
// gives a connection quickly; nil when it does not (holding one connection
// while waiting for another could deadlock concurrent exports on a busy
// pool).
func (h *Handler) eventsTx(ctx context.Context, db *pgxpool.Pool, tx pgx.Tx, opts pgx.TxOptions) (pgx.Tx, error) {
	if singleStatementExport.Load() {
		return nil, nil
	}
	var snapshot string
	if err := tx.QueryRow(ctx, query("export_snapshot")).Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("export deliveries: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, extraConnWait)
	conn, err := db.Acquire(waitCtx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("export deliveries: %w", ctx.Err())
		}
		return nil, nil
	}
	etx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("export deliveries: %w", err)
	}
	events := releasingTx{Tx: etx, conn: conn}
	sets := append([]string{`SET TRANSACTION SNAPSHOT '` + strings.ReplaceAll(snapshot, "'", "''") + `'`}, exportSettings...)
	for _, set := range sets {
		if _, err := etx.Exec(ctx, set); err != nil {
			_ = events.Rollback(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("export deliveries: %w", err)
		}
	}
	return events, nil
}

// singleStatementExport makes every export take the one-statement path,
// for the test that compares both paths' output.
var singleStatementExport atomic.Bool

// extraConnWait bounds the wait for the export's second connection.
const extraConnWait = 50 * time.Millisecond

// releasingTx is a transaction on an explicitly acquired connection, which
// its Rollback gives back to the pool.
type releasingTx struct {
	pgx.Tx
	conn interface{ Release() }
}

func (t releasingTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.conn.Release()
	return err
}

// summaryStream reads the event summaries on their own connection in a
// goroutine (decoding there, on the other core) and hands them over in
// batches through a bounded channel: memory stays flat.
type summaryStream struct {
	batches chan summaryBatch
	free    chan []eventCounts
	cancel  context.CancelFunc
	done    chan struct{}
	cur     []eventCounts
	pos     int
	ended   bool
	err     error
}

type summaryBatch struct {
	rows []eventCounts
	err  error
}

const summaryBatchSize = 512

func startSummaries(ctx context.Context, tx pgx.Tx, campaign int64) *summaryStream {
	ctx, cancel := context.WithCancel(ctx)
	s := &summaryStream{batches: make(chan summaryBatch, 4), free: make(chan []eventCounts, 6), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.batches)
		send := func(b summaryBatch) bool {
			select {
			case s.batches <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		rows, err := tx.Query(ctx, eventSummary+` ORDER BY delivery_id`, campaign)
		if err != nil {
			send(summaryBatch{err: fmt.Errorf("export deliveries: events: %w", err)})
			return
		}
		defer rows.Close()
		if err := checkFormats(rows.FieldDescriptions()); err != nil {
			send(summaryBatch{err: fmt.Errorf("export deliveries: events: %w", err)})
			return
		}
		batch := make([]eventCounts, 0, summaryBatchSize)
		for rows.Next() {
			var e eventCounts
			if err := e.decode(rows.RawValues()); err != nil {
				send(summaryBatch{err: fmt.Errorf("export deliveries: events: %w", err)})
				return
			}
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				if !send(summaryBatch{rows: batch}) {
					return
				}
				select {
				case batch = <-s.free:
					batch = batch[:0]
				default:
					batch = make([]eventCounts, 0, summaryBatchSize)
				}
			}
		}
		if err := rows.Err(); err != nil {
			send(summaryBatch{err: fmt.Errorf("export deliveries: events: %w", err)})
			return
		}
		if len(batch) > 0 {
			send(summaryBatch{rows: batch})
		}
	}()
	return s
}

// next returns the summary of delivery id (zero when it has no events).
// Ids must come in increasing order; summaries of lower ids (events of a
// delivery that is not the campaign's) are skipped, as the join would.
func (s *summaryStream) next(id int64) (eventCounts, error) {
	for {
		if s.pos == len(s.cur) {
			if s.ended {
				return eventCounts{delivery: id}, s.err
			}
			if s.cur != nil {
				select {
				case s.free <- s.cur:
				default:
				}
				s.cur, s.pos = nil, 0
			}
			b, ok := <-s.batches
			if !ok || b.err != nil {
				s.ended, s.err = true, b.err
				continue
			}
			s.cur, s.pos = b.rows, 0
		}
		e := s.cur[s.pos]
		switch {
		case e.delivery < id:
			s.pos++
		case e.delivery == id:
			s.pos++
			return e, nil
		default:
			return eventCounts{delivery: id}, nil
		}
	}
}

// drain reads what is left of the summaries (summaries of ids beyond the
// last delivery, the end of the statement), so the connection finishes
// its statement normally instead of being cancelled.
func (s *summaryStream) drain() {
	for range s.batches {
	}
	<-s.done
}

// stop ends the reading goroutine and waits for it.
func (s *summaryStream) stop() {
	s.cancel()
	for range s.batches {
	}
	<-s.done
}

// deliveryRow is a delivery's own columns, as raw bytes valid until the
// next row.
type deliveryRow struct {
	id, contact, attempts          int64
	step, email, status, lastError []byte
	times                          [7][]byte // queued, sent, bounced, first open, first click, unsubscribed, complained
}

func (d *deliveryRow) decode(v [][]byte) error {
	if len(v) < 14 {
		return fmt.Errorf("deliveries: %d columns", len(v))
	}
	var err error
	if d.id, err = int8Value(v[0]); err != nil {
		return err
	}
	if d.contact, err = int8Value(v[2]); err != nil {
		return err
	}
	if len(v[5]) != 4 {
		return errors.New("deliveries: attempts is not a binary int4")
	}
	d.attempts = int64(int32(binary.BigEndian.Uint32(v[5])))
	d.step, d.email, d.status, d.lastError = v[1], v[3], v[4], v[13]
	copy(d.times[:], v[6:13])
	return nil
}

// eventCounts is a delivery's event summary.
type eventCounts struct {
	delivery                                    int64
	opens, tOpens, clicks, tClicks, conversions int64
	revenue                                     float64
}

// decode reads delivery id (unless only the six counts are given), the
// five counts and the revenue.
func (e *eventCounts) decode(v [][]byte) error {
	if len(v) == 7 {
		var err error
		if e.delivery, err = int8Value(v[0]); err != nil {
			return err
		}
		v = v[1:]
	}
	if len(v) != 6 {
		return fmt.Errorf("event summary: %d columns", len(v))
	}
	for i, p := range []*int64{&e.opens, &e.tOpens, &e.clicks, &e.tClicks, &e.conversions} {
		n, err := int8Value(v[i])
		if err != nil {
			return err
		}
		*p = n
	}
	if len(v[5]) != 8 {
		return errors.New("event summary: revenue is not a binary float8")
	}
	e.revenue = math.Float64frombits(binary.BigEndian.Uint64(v[5]))
	return nil
}

func int8Value(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, errors.New("export: not a binary int8")
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// checkFormats makes sure every non-text column comes in binary format,
// which the decoders read (pgx asks for binary for int4, int8, float8 and
// timestamptz).
func checkFormats(fields []pgconn.FieldDescription) error {
	for _, f := range fields {
		switch f.DataTypeOID {
		case pgtype.TextOID:
		case pgtype.Int4OID, pgtype.Int8OID, pgtype.Float8OID, pgtype.TimestamptzOID:
			if f.Format != pgtype.BinaryFormatCode {
				return fmt.Errorf("column %s is not in binary format", f.Name)
			}
		default:
			return fmt.Errorf("column %s has unexpected type %d", f.Name, f.DataTypeOID)
		}
	}
	return nil
}

// pgEpoch is PostgreSQL's timestamp epoch (2000-01-01 UTC) in Unix seconds.
const pgEpoch = 946684800

// appendTimestamptz appends a binary timestamptz (microseconds since
// 2000-01-01 UTC; nil is NULL: nothing) as RFC 3339 in UTC.
func appendTimestamptz(dst, b []byte) ([]byte, error) {
	if b == nil {
		return dst, nil
	}
	if len(b) != 8 {
		return dst, errors.New("export: not a binary timestamptz")
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return dst, errors.New("export: cannot export an infinite timestamp")
	}
	sec := us / 1e6
	if us%1e6 < 0 {
		sec--
	}
	return appendRFC3339(dst, time.Unix(sec+pgEpoch, 0)), nil
}

// appendDeliveryRow appends one CSV line of the deliveries export.
func appendDeliveryRow(b []byte, d *deliveryRow, e *eventCounts) []byte {
	b = strconv.AppendInt(b, d.id, 10)
	b = append(b, ',')
	b = appendCSVText(b, d.step)
	b = append(b, ',')
	b = strconv.AppendInt(b, d.contact, 10)
	b = append(b, ',')
	b = appendCSVText(b, d.email)
	b = append(b, ',')
	b = appendCSVText(b, d.status)
	b = append(b, ',')
	b = strconv.AppendInt(b, d.attempts, 10)
	for _, t := range d.times {
		b = append(b, ',')
		// decode and checkFormats guarantee 8 bytes or NULL; an infinite
		// timestamp (never written by Peykar) is left empty.
		b, _ = appendTimestamptz(b, t)
	}
	for _, n := range [...]int64{e.opens, e.tOpens, e.clicks, e.tClicks, e.conversions} {
		b = append(b, ',')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ',')
	b = strconv.AppendFloat(b, e.revenue, 'f', -1, 64)
	b = append(b, ',')
	b = appendCSVText(b, d.lastError)
	return append(b, '\n')
}

// fastCSV writes ready CSV lines to the response through one buffer,
// flushing every few rows so memory stays flat whatever the size.
type fastCSV struct {
	w     *bufio.Writer
	resp  *echo.Response
	n     int
	every int
}

// startFastCSV sends the headers (and, with ?bom=1, a UTF-8 byte order
// mark) and the header line.
func (h *Handler) startFastCSV(c echo.Context, filename string, header []string) *fastCSV {
	resp := c.Response()
	_ = http.NewResponseController(resp.Writer).SetWriteDeadline(time.Time{})
	resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	resp.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", filename))
	resp.WriteHeader(http.StatusOK)
	s := &fastCSV{w: bufio.NewWriterSize(resp, 32<<10), resp: resp, every: h.cfg.FlushEvery}
	if c.QueryParam("bom") == "1" {
		_, _ = s.w.WriteString("\uFEFF")
	}
	var line []byte
	for i, f := range header {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVText(line, []byte(f))
	}
	_, _ = s.w.Write(append(line, '\n'))
	return s
}

func (s *fastCSV) write(line []byte) error {
	if _, err := s.w.Write(line); err != nil {
		return err
	}
	s.n++
	if s.n%s.every == 0 {
		if err := s.w.Flush(); err != nil {
			return err
		}
		s.resp.Flush()
	}
	return nil
}

func (s *fastCSV) close() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	s.resp.Flush()
	return nil
}
