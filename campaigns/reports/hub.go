package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/peykar/peykar/campaigns"
)

// hub runs one poller per campaign with stream subscribers, shared by all
// of that campaign's clients: the database sees one report query per
// campaign per interval, however many browsers watch it.
type hub struct {
	report func(ctx context.Context, id int64) (campaigns.Report, error)
	every  time.Duration
	logger *slog.Logger

	mu      sync.Mutex
	pollers map[int64]*poller
}

func newHub(report func(ctx context.Context, id int64) (campaigns.Report, error), every time.Duration, logger *slog.Logger) *hub {
	return &hub{report: report, every: every, logger: logger, pollers: map[int64]*poller{}}
}

// poller polls one campaign's report and tells subscribers when it changed.
type poller struct {
	campaign int64
	cancel   context.CancelFunc

	mu      sync.Mutex
	subs    map[chan struct{}]struct{}
	seq     int64             // the event id of data; increases, also across pollers (time based)
	state   []byte            // the latest streamed state (see newStreamEvent), without changed
	metrics campaigns.Metrics // the metrics of state
	data    []byte            // the event's data: state with the names of the metrics that changed
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
	r, err := h.report(ctx, p.campaign)
	if err != nil {
		if ctx.Err() == nil {
			h.logger.WarnContext(ctx, "report stream poll failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		}
		return
	}
	ev := newStreamEvent(r)
	asOf := ev.AsOf // a replica's as-of moves with every probe: not a change
	ev.AsOf = nil
	state, err := json.Marshal(ev)
	if err != nil {
		h.logger.ErrorContext(ctx, "report stream encode failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != nil && bytes.Equal(state, p.state) {
		return
	}
	ev.Changed = changedMetrics(r.Metrics, p.metrics, p.state == nil)
	ev.AsOf = asOf
	b, err := json.Marshal(ev)
	if err != nil {
		h.logger.ErrorContext(ctx, "report stream encode failed", slog.Int64("campaign_id", p.campaign), slog.Any("error", err))
		return
	}
	p.state, p.metrics, p.data = state, r.Metrics, b
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

// streamEvent is a stream event's data: the report (the same type the API
// and the pages read) without its timeline, which is replaced by its last
// points (timeline_tail) so an event stays small however long the campaign
// has run, and the names of the metrics that changed.
type streamEvent struct {
	campaigns.Report
	// Timeline shadows the report's timeline: always nil, so left out.
	Timeline     []campaigns.TimelinePoint `json:"timeline,omitempty"`
	TimelineTail []campaigns.TimelinePoint `json:"timeline_tail"`
	Changed      []string                  `json:"changed"`
}

func newStreamEvent(r campaigns.Report) streamEvent {
	tail := r.Timeline
	if len(tail) > tailPoints {
		tail = tail[len(tail)-tailPoints:]
	}
	if tail == nil {
		tail = []campaigns.TimelinePoint{}
	}
	r.Timeline = nil
	return streamEvent{Report: r, TimelineTail: tail}
}

// changedMetrics names (by their JSON names) the metrics whose values
// differ between cur and prev; all of them when first.
func changedMetrics(cur, prev campaigns.Metrics, first bool) []string {
	changed := []string{}
	cv, pv := reflect.ValueOf(cur), reflect.ValueOf(prev)
	t := cv.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if first || !reflect.DeepEqual(cv.Field(i).Interface(), pv.Field(i).Interface()) {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	return changed
}
