package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// hub runs one poller per campaign with stream subscribers, shared by all
// of that campaign's clients: the database sees one report query per
// campaign per interval, however many browsers watch it.
type hub struct {
	report func(ctx context.Context, id int64) (any, error)
	every  time.Duration
	logger *slog.Logger

	mu      sync.Mutex
	pollers map[int64]*poller
}

func newHub(report func(ctx context.Context, id int64) (any, error), every time.Duration, logger *slog.Logger) *hub {
	return &hub{report: report, every: every, logger: logger, pollers: map[int64]*poller{}}
}

// poller polls one campaign's report and tells subscribers when it changed.
type poller struct {
	campaign int64
	cancel   context.CancelFunc

	mu    sync.Mutex
	subs  map[chan struct{}]struct{}
	seq   int64  // the event id of data; increases, also across pollers (time based)
	state []byte // the latest streamed state (see streamState)
	data  []byte // state with the names of the metrics that changed: the event's data
}

// subscribe returns campaign id's poller and a channel that receives a
// value whenever the report changes; call the returned function to leave.
func (h *hub) subscribe(id int64) (*poller, <-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	p := h.pollers[id]
	if p == nil {
		ctx, cancel := context.WithCancel(context.Background())
		p = &poller{campaign: id, cancel: cancel, subs: map[chan struct{}]struct{}{}}
		h.pollers[id] = p
		go p.run(ctx, h)
	}
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	h.mu.Unlock()
	leave := func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		p.mu.Lock()
		delete(p.subs, ch)
		empty := len(p.subs) == 0
		p.mu.Unlock()
		if empty && h.pollers[id] == p {
			delete(h.pollers, id)
			p.cancel()
		}
	}
	return p, ch, leave
}

// pollers counts the running pollers (for tests).
func (h *hub) running() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pollers)
}

func (p *poller) run(ctx context.Context, h *hub) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		p.poll(ctx, h)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *poller) poll(ctx context.Context, h *hub) {
	v, err := h.report(ctx, p.campaign)
	if err != nil {
		if ctx.Err() == nil {
			h.logger.WarnContext(ctx, "report stream poll failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		}
		return
	}
	state, err := streamState(v)
	if err != nil {
		h.logger.ErrorContext(ctx, "report stream encode failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != nil && bytes.Equal(state, p.state) {
		return
	}
	b, err := withChanges(state, p.state)
	if err != nil {
		h.logger.ErrorContext(ctx, "report stream encode failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		return
	}
	p.state, p.data = state, b
	p.seq = max(p.seq+1, time.Now().UnixMilli())
	for ch := range p.subs {
		select {
		case ch <- struct{}{}:
		default: // already told; it reads the latest state anyway
		}
	}
}

// latest returns the current state and its event id (nil before the first
// poll).
func (p *poller) latest() (int64, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq, p.data
}

// tailPoints is how many of the latest timeline points a stream event
// carries; the page merges them into the timeline it was rendered with.
const tailPoints = 3

// streamState is the report as a stream event carries it: everything but
// the timeline, which is replaced by its last points (timeline_tail), so
// an event stays small however long the campaign has run.
func streamState(report any) ([]byte, error) {
	b, err := json.Marshal(report)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if raw, ok := m["timeline"]; ok {
		var points []json.RawMessage
		if err := json.Unmarshal(raw, &points); err != nil {
			return nil, err
		}
		if len(points) > tailPoints {
			points = points[len(points)-tailPoints:]
		}
		if m["timeline_tail"], err = json.Marshal(points); err != nil {
			return nil, err
		}
		delete(m, "timeline")
	}
	return json.Marshal(m)
}

// withChanges adds "changed": the names of the campaign metrics whose
// values differ from the previous state (all of them on the first).
func withChanges(state, prev []byte) ([]byte, error) {
	var cur, old struct {
		Metrics map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(state, &cur); err != nil {
		return nil, err
	}
	if prev != nil {
		if err := json.Unmarshal(prev, &old); err != nil {
			return nil, err
		}
	}
	changed := []string{}
	for k, v := range cur.Metrics {
		if !bytes.Equal(old.Metrics[k], v) {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(state, &m); err != nil {
		return nil, err
	}
	var err error
	if m["changed"], err = json.Marshal(changed); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
