package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peykar/peykar/internal/outbox"
)

// Stats counts what the simulator did.
type Stats struct {
	Messages      int64 `json:"messages"`       // caught messages of the demo's steps seen
	Opens         int64 `json:"opens"`          // human pixel loads
	Clicks        int64 `json:"clicks"`         // human clicks
	MachineOpens  int64 `json:"machine_opens"`  // scanner pixel loads
	MachineClicks int64 `json:"machine_clicks"` // scanner clicks
	Unsubscribes  int64 `json:"unsubscribes"`   // one-click POSTs
	Conversions   int64 `json:"conversions"`    // purchases posted to /api/v1/events
	Errors        int64 `json:"errors"`         // requests that failed
}

func (s *Stats) String() string {
	return fmt.Sprintf("%d messages: %d opens, %d clicks (plus %d opens and %d clicks by scanners), %d unsubscribes, %d purchases",
		atomic.LoadInt64(&s.Messages), atomic.LoadInt64(&s.Opens), atomic.LoadInt64(&s.Clicks),
		atomic.LoadInt64(&s.MachineOpens), atomic.LoadInt64(&s.MachineClicks),
		atomic.LoadInt64(&s.Unsubscribes), atomic.LoadInt64(&s.Conversions))
}

// behaviour is how recipients treat one step's message: the chance to open,
// to click once opened, to buy once clicked and to unsubscribe once opened,
// and how the clicks spread over the message's links.
type behaviour struct {
	open, click, convert, unsub float64
	links                       []float64
}

var behaviours = map[string]behaviour{
	stepMain:   {open: 0.45, click: 0.40, convert: 0.30, unsub: 0.02, links: []float64{0.5, 0.35, 0.15}},
	stepOffer:  {open: 0.65, click: 0.50, convert: 0.50, unsub: 0.01, links: []float64{0.85, 0.15}},
	stepResend: {open: 0.30, click: 0.30, convert: 0.25, unsub: 0.05, links: []float64{0.6, 0.4}},
}

// scannedShare of first sends go to mailboxes behind a security scanner,
// which loads the pixel and follows every link within a second or two of
// delivery.
const scannedShare = 0.08

// firstMessageWait bounds the wait for the campaign's first message.
const firstMessageWait = 2 * time.Minute

// humanDelay is the least time between delivery and a person's first look:
// the tracking classifier counts anything sooner as a machine.
const humanDelay = 6 * time.Second

var humanAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.10.1",
}

var scannerAgents = []string{
	"Mozilla/5.0 (compatible; Barracuda Sentinel URL scanner)",
	"Mimecast URL Protect/2.0",
	"Proofpoint URL Defense/1.0",
	"Microsoft Office/16.0 (SafeLinks; Microsoft Outlook 16.0)",
}

// plan is what one recipient will do with one message; zero times are
// things they will not do.
type plan struct {
	msg                      outbox.Message
	scanAt                   time.Time
	scanner, agent           string
	openAt, clickAt, unsubAt time.Time
	convertAt                time.Time
	link                     int
	value                    float64
}

func (p *plan) first() time.Time {
	t := p.openAt
	if !p.scanAt.IsZero() {
		t = p.scanAt
	}
	return t
}

// Simulate plays recipients for the configured duration: it watches the
// catch-all for the campaign's messages and, for each, decides what the
// recipient does and does it over HTTP at human-like times (more activity
// early, nothing before humanDelay after delivery), and lets scanners hit
// some first sends within seconds. The duration counts from the first
// message caught (a busy machine may take a while to start sending; after
// firstMessageWait without one the simulation gives up). It returns when
// the duration is over and every request it started has finished, or when
// ctx is done, and then revokes the demo's API token (Close).
func (d *Demo) Simulate(ctx context.Context) (_ *Stats, err error) {
	defer func() { err = errors.Join(err, d.Close(context.WithoutCancel(ctx))) }()
	start := time.Now()
	deadline := start.Add(firstMessageWait)
	started := false
	stats := &Stats{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	last := d.outboxFrom
	poll := time.NewTicker(500 * time.Millisecond)
	defer poll.Stop()
	every := max(d.cfg.Duration/6, 5*time.Second)
	nextReport := start.Add(every)
	for now := time.Now(); now.Before(deadline); now = time.Now() {
		msgs, err := newMessages(ctx, d.cfg.Outbox, last)
		if err != nil {
			wg.Wait()
			return stats, fmt.Errorf("demo: read the outbox: %w", err)
		}
		for _, m := range msgs {
			last = m.ID
			step := stepOf(m.Subject)
			if step == "" {
				continue
			}
			if !started {
				started, start = true, now
				deadline = now.Add(d.cfg.Duration)
				nextReport = now.Add(every)
			}
			atomic.AddInt64(&stats.Messages, 1)
			p := d.plan(m, step, now, deadline)
			if p.first().IsZero() {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.play(ctx, p, sem, stats)
			}()
		}
		if now.After(nextReport) {
			fmt.Fprintf(d.cfg.Out, "  %3.0fs  %s\n", now.Sub(start).Seconds(), stats)
			nextReport = now.Add(every)
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return stats, ctx.Err()
		case <-poll.C:
		}
	}
	wg.Wait()
	if !started {
		return stats, fmt.Errorf("demo: no message of the campaign reached the catch-all within %s", firstMessageWait)
	}
	d.recomputeAnalytics(ctx) // again, now with the campaign's responses
	d.cfg.Logger.InfoContext(ctx, "demo simulation finished", slog.String("stats", stats.String()))
	return stats, nil
}

// plan draws what the recipient of m does. Times after deadline are left
// out, so the simulation ends on time.
func (d *Demo) plan(m outbox.Message, step string, now, deadline time.Time) *plan {
	r := d.rng
	b := behaviours[step]
	p := &plan{msg: m, agent: pick(r, humanAgents)}
	received := m.ReceivedAt
	if received.IsZero() || received.After(now) {
		received = now
	}
	within := func(t time.Time) time.Time {
		if t.After(deadline) {
			return time.Time{}
		}
		return t
	}
	// Scale the human pauses with the demo's length: a two-minute demo has
	// people open within half a minute or so, a short test within seconds.
	scale := float64(d.cfg.Duration) / float64(2*time.Minute)
	expo := func(mean time.Duration) time.Duration { return time.Duration(r.ExpFloat64() * float64(mean)) }
	if step == stepMain && r.Float64() < scannedShare {
		p.scanner = pick(r, scannerAgents)
		p.scanAt = within(now.Add(time.Duration(200+r.IntN(1300)) * time.Millisecond))
	}
	if r.Float64() >= b.open {
		return p
	}
	p.openAt = within(received.Add(humanDelay + expo(d.cfg.Duration/5)))
	if p.openAt.IsZero() {
		return p
	}
	if r.Float64() < b.unsub {
		p.unsubAt = within(p.openAt.Add(time.Second + expo(time.Duration(5*scale*float64(time.Second)))))
		return p
	}
	if r.Float64() >= b.click {
		return p
	}
	p.link = weighted(r, b.links)
	p.clickAt = within(p.openAt.Add(time.Second + expo(time.Duration(8*scale*float64(time.Second)))))
	if p.clickAt.IsZero() {
		return p
	}
	convert := b.convert
	if p.link == 0 { // the pricing page converts better
		convert *= 1.3
	}
	if r.Float64() < convert {
		p.convertAt = within(p.clickAt.Add(2*time.Second + expo(time.Duration(15*scale*float64(time.Second)))))
		p.value = purchaseValue(r, now)
	}
	return p
}

// weighted draws an index by weight.
func weighted(r *rand.Rand, w []float64) int {
	x := r.Float64()
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// play carries out p: it reads the message's tracked links from the outbox
// and makes each request at its time.
func (d *Demo) play(ctx context.Context, p *plan, sem chan struct{}, stats *Stats) {
	if !sleepUntil(ctx, p.first()) {
		return
	}
	sem <- struct{}{}
	full, err := d.cfg.Outbox.Get(ctx, p.msg.ID)
	<-sem
	if err != nil {
		atomic.AddInt64(&stats.Errors, 1)
		d.cfg.Logger.WarnContext(ctx, "demo: read message", slog.Int64("id", p.msg.ID), slog.Any("error", err))
		return
	}
	c := parseCaught(full)
	do := func(at time.Time, counter *int64, f func() error) {
		if at.IsZero() || !sleepUntil(ctx, at) {
			return
		}
		sem <- struct{}{}
		err := f()
		<-sem
		if err != nil {
			atomic.AddInt64(&stats.Errors, 1)
			d.cfg.Logger.DebugContext(ctx, "demo request failed", slog.Any("error", err))
			return
		}
		atomic.AddInt64(counter, 1)
	}
	if c.Pixel != "" {
		do(p.scanAt, &stats.MachineOpens, func() error { return d.client.hit(ctx, "GET", c.Pixel, p.scanner, "") })
	}
	if !p.scanAt.IsZero() {
		for _, l := range c.Links {
			do(p.scanAt, &stats.MachineClicks, func() error { return d.client.hit(ctx, "GET", l, p.scanner, "") })
		}
	}
	if c.Pixel != "" {
		do(p.openAt, &stats.Opens, func() error { return d.client.hit(ctx, "GET", c.Pixel, p.agent, "") })
	}
	if c.Unsub != "" {
		do(p.unsubAt, &stats.Unsubscribes, func() error {
			return d.client.hit(ctx, "POST", c.Unsub, p.agent, "List-Unsubscribe=One-Click")
		})
	}
	if p.link < len(c.Links) {
		do(p.clickAt, &stats.Clicks, func() error { return d.client.hit(ctx, "GET", c.Links[p.link], p.agent, "") })
	}
	if c.To != "" {
		do(p.convertAt, &stats.Conversions, func() error {
			return d.client.api(ctx, "POST", "/events", map[string]any{
				"email": c.To, "type": "purchase", "value": p.value, "currency": "EUR", "campaign_id": d.CampaignID,
				"attributes": map[string]any{"source": "demo simulator", "order": "D-" + strconv.FormatInt(p.msg.ID, 10)},
			}, nil)
		})
	}
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
