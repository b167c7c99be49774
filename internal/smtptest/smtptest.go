// Package smtptest runs a real SMTP server in process for tests and
// benchmarks: it records every message it accepts and can refuse chosen
// recipients with chosen SMTP errors.
package smtptest

import (
	"context"
	"io"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is an accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is an in-process SMTP server on 127.0.0.1.
type Server struct {
	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	messages []Message
	count    int
	// Keep says whether messages are kept (false: only counted, for benchmarks).
	keep bool
	// Reject decides a recipient's fate: nil accepts it.
	reject func(rcpt string) *smtp.SMTPError
	onEnd  func()
}

// Options configure a Server.
type Options struct {
	// Discard counts messages without keeping them.
	Discard bool
	// Reject, when set, is asked about every RCPT TO; a non-nil error refuses it.
	Reject func(rcpt string) *smtp.SMTPError
	// IdleTimeout, when set, closes a session that sends nothing for that
	// long, as real servers do (default a minute).
	IdleTimeout time.Duration
	// OnEnd, when set, is called as a session ends (the server hangs up,
	// on IdleTimeout for instance, or the client quits), before its
	// connection is closed: a test waits on it instead of sleeping.
	OnEnd func()
}

// Start listens on a free loopback port.
func Start(opts Options) (*Server, error) {
	s := &Server{keep: !opts.Discard, reject: opts.Reject, onEnd: opts.OnEnd}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "sink.localhost"
	s.srv.MaxMessageBytes = 20 << 20
	s.srv.MaxRecipients = 10000
	s.srv.ReadTimeout = time.Minute
	if opts.IdleTimeout > 0 {
		s.srv.ReadTimeout = opts.IdleTimeout
	}
	s.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// SetReject replaces the rejection rule.
func (s *Server) SetReject(f func(rcpt string) *smtp.SMTPError) {
	s.mu.Lock()
	s.reject = f
	s.mu.Unlock()
}

// Messages returns a copy of what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count is how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset() { x.from, x.to = "", nil }
func (x *session) Logout() error {
	if x.s.onEnd != nil {
		x.s.onEnd()
	}
	return nil
}
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	reject := x.s.reject
	x.s.mu.Unlock()
	if reject != nil {
		if err := reject(to); err != nil {
			return err
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	if !x.s.keep {
		_, err := io.Copy(io.Discard, r)
		x.s.mu.Lock()
		x.s.count++
		x.s.mu.Unlock()
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, Message{From: x.from, To: x.to, Data: b})
	x.s.count++
	x.s.mu.Unlock()
	return nil
}
