package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
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

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
	seq  int64  // the event id of data; increases, also across pollers (time based)
	data []byte // the latest report as JSON, nil before the first poll
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
	b, err := json.Marshal(v)
	if err != nil {
		h.logger.ErrorContext(ctx, "report stream encode failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.data != nil && bytes.Equal(b, p.data) {
		return
	}
	p.data = b
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
