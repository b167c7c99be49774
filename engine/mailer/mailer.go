package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"

	"github.com/peykar/peykar/internal/baseservice"
)

// Mailer sends messages over a pool of persistent SMTP connections, under
// the transport's rate limit. go-mail dials the connections (TLS, AUTH) and
// builds the messages; the pool hands each connection to one sender at a
// time, which runs its transactions (see session).
type Mailer struct {
	baseservice.Base
	cfg     Config
	client  *mail.Client
	slots   chan struct{}    // one token per connection that may exist
	idle    chan idleConn    // connections ready for reuse
	limiter *rate.Limiter    // nil: unlimited
	dkim    *mail.DKIMSigner // nil: no signing
	timeout time.Duration    // per message, for every read and write
	// checkAfter is how long a connection may sit idle before it is
	// checked with NOOP on reuse: servers close idle sessions (Postfix
	// after 300 s), and a message sent into a dead one fails with its
	// whole chunk.
	checkAfter time.Duration
	// chunkedSent counts the messages the server accepted by BDAT.
	chunkedSent atomic.Int64
}

// ChunkedSent is how many messages the server accepted by BDAT (RFC 3030)
// since the mailer was made; the rest went by DATA.
func (m *Mailer) ChunkedSent() int64 { return m.chunkedSent.Load() }

// New prepares a mailer for the transport cfg, logging to base's logger
// and reading base's clock for idle checks; connections are dialled on
// first use.
func New(cfg Config, base baseservice.Base) (*Mailer, error) {
	if cfg.Pool < 1 {
		cfg.Pool = 1
	}
	const timeout = 30 * time.Second
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(timeout),
		mail.WithoutNoop(), // one round trip fewer per message; the connection is checked on reuse
		mail.WithHELO("localhost"),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	var dkim *mail.DKIMSigner
	if cfg.DKIM != nil {
		key, err := mail.PrivKeyFromPEM(cfg.DKIM.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("DKIM key: %w", err)
		}
		dkim = mail.NewDKIMSigner(cfg.DKIM.Domain, cfg.DKIM.Selector, key)
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	client, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	m := &Mailer{
		cfg:     cfg,
		client:  client,
		slots:   make(chan struct{}, cfg.Pool),
		idle:    make(chan idleConn, cfg.Pool),
		dkim:    dkim,
		timeout: timeout,
		Base:    base,

		checkAfter: 15 * time.Second,
	}
	if cfg.Rate > 0 {
		m.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), Burst(cfg.Rate))
	}
	return m, nil
}

// Burst is the burst of a limiter of perSecond messages: a second's worth
// of tokens at once (at least one), so chunks of messages wait once rather
// than per message.
func Burst(perSecond float64) int {
	return max(1, int(math.Ceil(perSecond)))
}

// Pool is the number of connections the mailer may hold.
func (m *Mailer) Pool() int { return m.cfg.Pool }

// idleConn is a pooled connection and when it was last used.
type idleConn struct {
	c    *smtp.Client
	used time.Time
}

// conn returns a connection for exclusive use: an idle one, or a new one
// while the pool has room; otherwise it waits. An idle connection that
// has waited long is checked first and replaced when the server has gone.
func (m *Mailer) conn(ctx context.Context) (*smtp.Client, error) {
	for {
		ic, err := m.take(ctx)
		if err != nil || ic.c == nil {
			return nil, err
		}
		if m.Since(ic.used) < m.checkAfter {
			return ic.c, nil
		}
		if err := ic.c.UpdateDeadline(m.timeout); err == nil {
			if err = ic.c.Noop(); err == nil {
				return ic.c, nil
			}
		}
		m.release(ic.c, true) // gone: drop it and take or dial another
	}
}

// take returns an idle connection, or dials one while the pool has room.
func (m *Mailer) take(ctx context.Context) (idleConn, error) {
	select {
	case ic := <-m.idle:
		return ic, nil
	default:
	}
	select {
	case ic := <-m.idle:
		return ic, nil
	case m.slots <- struct{}{}:
		c, err := m.client.DialToSMTPClientWithContext(ctx)
		if err != nil {
			<-m.slots
			return idleConn{}, fmt.Errorf("connect to %s: %w", m.cfg.Addr(), err)
		}
		return idleConn{c: c, used: m.Now()}, nil
	case <-ctx.Done():
		return idleConn{}, ctx.Err()
	}
}

// release returns a healthy connection to the pool or closes a broken one.
func (m *Mailer) release(c *smtp.Client, broken bool) {
	if broken || !c.HasConnection() {
		_ = m.client.CloseWithSMTPClient(c)
		<-m.slots
		return
	}
	m.idle <- idleConn{c: c, used: m.Now()}
}

// Send is SendMessages for go-mail messages.
func (m *Mailer) Send(ctx context.Context, msgs []*mail.Msg) ([]Result, error) {
	all := make([]Message, len(msgs))
	for i, msg := range msgs {
		all[i] = msg
	}
	return m.SendMessages(ctx, all)
}

// SendMessages delivers msgs on one pooled connection, waiting for the
// transport's rate limit, and returns each message's outcome. The error is
// only for failures before any message could be tried (no connection,
// context done), in which case every message counts as temporarily failed.
func (m *Mailer) SendMessages(ctx context.Context, msgs []Message) ([]Result, error) {
	if m.limiter != nil {
		for left := len(msgs); left > 0; {
			n := min(left, m.limiter.Burst())
			if err := m.limiter.WaitN(ctx, n); err != nil {
				return nil, err
			}
			left -= n
		}
	}
	c, err := m.conn(ctx)
	if err != nil {
		return nil, err
	}
	if check, ok := ctx.Value(writeCheckKey{}).(func(context.Context) error); ok {
		// Checked here, with the connection held, and not before: waiting
		// for the rate limit or a connection can outlast the caller's
		// right to send (a process frozen there and presumed dead).
		if err := check(ctx); err != nil {
			m.release(c, false)
			return nil, err
		}
	}
	results := make([]Result, len(msgs))
	s := m.session(c)
	err = s.sendAll(msgs, results)
	if s.chunking {
		n := 0
		for _, r := range results {
			if r.Outcome == Sent {
				n++
			}
		}
		m.chunkedSent.Add(int64(n))
	}
	broken := err != nil
	if broken {
		// A connection-level failure (network error, timeout, reset)
		// leaves the session in an unknown state: drop it.
		m.Log().WarnContext(ctx, "smtp connection failed", slog.String("addr", m.cfg.Addr()), slog.Any("error", err))
	}
	m.release(c, broken)
	return results, nil
}

// writeCheckKey carries the check of WithWriteCheck.
type writeCheckKey struct{}

// WithWriteCheck returns a context under which Send calls check once it
// holds a connection, right before it writes the first message, and sends
// nothing (returning check's error) when check fails. A campaign's sender
// passes its lease check (engine/fence.go): a process frozen while it
// waited for a connection, and presumed dead meanwhile, then writes none
// of the messages another process has taken over. With BDAT a call's
// messages reach the server in one write, so a check made before the wait
// would let every waiting call's whole window through after the freeze.
func WithWriteCheck(ctx context.Context, check func(context.Context) error) context.Context {
	return context.WithValue(ctx, writeCheckKey{}, check)
}

// Close closes idle connections.
func (m *Mailer) Close() {
	for {
		select {
		case ic := <-m.idle:
			_ = m.client.CloseWithSMTPClient(ic.c)
			<-m.slots
		default:
			return
		}
	}
}

// session is a session on c with the transport's settings: BDAT only when
// the server offers it and the transport does not turn it off.
func (m *Mailer) session(c *smtp.Client) *session {
	s := newSession(c, m.timeout, m.dkim)
	if m.cfg.NoChunking {
		s.chunking = false
	}
	return s
}
