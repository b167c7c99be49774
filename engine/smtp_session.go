package engine

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Result is the outcome of sending one message.
type Result struct {
	Outcome Outcome
	// Code is the SMTP reply code that decided the outcome; 0 for a network
	// error, a timeout, or a message that was not tried.
	Code int
	// Enhanced is the reply's enhanced status code (RFC 3463, e.g. 5.1.1),
	// when the server gave one.
	Enhanced string
	// Detail is the server's reply (its acceptance on success) or the error.
	Detail string
}

// AddressBounce tells a refusal of the address itself (5.1.x: no such user,
// bad mailbox, bad domain) from other permanent failures (policy, content),
// so only the former suppresses the contact.
func (r Result) AddressBounce() bool {
	if r.Outcome != PermFail {
		return false
	}
	if r.Enhanced != "" {
		return strings.HasPrefix(r.Enhanced, "5.1.")
	}
	switch r.Code {
	case 550, 551, 553:
		return true
	}
	return false
}

// session runs mail transactions on one connection. go-mail builds the
// messages and dials; the transactions are ours so that they take fewer
// round trips than go-mail's (MAIL, RCPT, DATA, body, RSET each waiting for
// its reply): with PIPELINING (RFC 2920) MAIL, RCPT and DATA go in one write,
// and no RSET follows a completed transaction (RFC 5321 §4.1.1.4: the end of
// data resets the state). The server sees the same commands and replies.
type session struct {
	c          *smtp.Client
	timeout    time.Duration
	dkim       *mail.DKIMSigner
	pipelining bool
	mailParams string // " BODY=8BITMIME SMTPUTF8" as the server supports
}

func newSession(c *smtp.Client, timeout time.Duration, dkim *mail.DKIMSigner) *session {
	s := &session{c: c, timeout: timeout, dkim: dkim}
	s.pipelining, _ = c.Extension("PIPELINING")
	if ok, _ := c.Extension("8BITMIME"); ok {
		s.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		s.mailParams += " SMTPUTF8"
	}
	return s
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// send runs one transaction. A non-nil error means the connection can no
// longer be used (network error, timeout, protocol out of step); the result
// then says the message failed temporarily, not knowing whether it arrived.
func (s *session) send(msg *mail.Msg) (Result, error) {
	from, err := msg.GetSender(false)
	if err != nil {
		return Result{Outcome: TempFail, Detail: fmt.Sprintf("sender: %v", err)}, nil
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return Result{Outcome: TempFail, Detail: fmt.Sprintf("recipients: %v", err)}, nil
	}
	for _, a := range append([]string{from}, rcpts...) {
		if strings.ContainsAny(a, "\r\n") {
			return Result{Outcome: PermFail, Detail: fmt.Sprintf("address %q contains a line break", a)}, nil
		}
	}
	// Build the whole message before starting the transaction, so that a
	// message that cannot be built never leaves a half-sent DATA behind.
	body := bodyBuffers.Get().(*bytes.Buffer)
	body.Reset()
	defer bodyBuffers.Put(body)
	if s.dkim != nil {
		msg.SetDKIM(s.dkim)
	}
	if _, err := msg.WriteTo(body); err != nil {
		return Result{Outcome: TempFail, Detail: fmt.Sprintf("build message: %v", err)}, nil
	}
	if err := s.c.UpdateDeadline(s.timeout); err != nil {
		return failed(err), err
	}

	r, err := s.envelope(from, rcpts)
	if err != nil || r != nil {
		return s.abort(r, err)
	}
	dw := s.c.Text.DotWriter()
	if _, err := dw.Write(body.Bytes()); err != nil {
		return failed(err), err
	}
	if err := dw.Close(); err != nil {
		return failed(err), err
	}
	code, reply, err := s.c.Text.ReadResponse(250)
	if res, ok := refused(code, reply, err, "end of data"); ok {
		return res, nil
	} else if err != nil {
		return failed(err), err
	}
	return Result{Outcome: Sent, Code: code, Detail: fmt.Sprintf("%d %s", code, reply)}, nil
}

// envelope sends MAIL, RCPT and DATA, in one write when the server
// pipelines, and reads their replies. It returns a non-nil result when the
// server refused one of them and the body must not be sent.
func (s *session) envelope(from string, rcpts []string) (*Result, error) {
	w := s.c.Text.W
	cmds := 0
	write := func(parts ...string) error {
		for _, p := range parts {
			_, _ = w.WriteString(p)
		}
		_, _ = w.WriteString("\r\n")
		cmds++
		if s.pipelining {
			return nil
		}
		return w.Flush()
	}
	expect := func(code int, step string) (*Result, error) {
		got, reply, err := s.c.Text.ReadResponse(code)
		if res, ok := refused(got, reply, err, step); ok {
			return &res, nil
		}
		return nil, err
	}
	if !s.pipelining {
		// One command, one reply; stop at the first refusal.
		if err := write("MAIL FROM:", from, s.mailParams); err != nil {
			return nil, err
		}
		if r, err := expect(250, "MAIL FROM"); r != nil || err != nil {
			return r, err
		}
		for _, rcpt := range rcpts {
			if err := write("RCPT TO:", rcpt); err != nil {
				return nil, err
			}
			if r, err := expect(25, "RCPT TO "+rcpt); r != nil || err != nil {
				return r, err
			}
		}
		if err := write("DATA"); err != nil {
			return nil, err
		}
		return expect(354, "DATA")
	}
	_ = write("MAIL FROM:", from, s.mailParams)
	for _, rcpt := range rcpts {
		_ = write("RCPT TO:", rcpt)
	}
	_ = write("DATA")
	if err := w.Flush(); err != nil {
		return nil, err
	}
	// Every command of the group gets a reply; the first refusal decides.
	var first *Result
	note := func(r *Result, err error) error {
		if r != nil && first == nil {
			first = r
		}
		return err
	}
	if err := note(expect(250, "MAIL FROM")); err != nil {
		return nil, err
	}
	for _, rcpt := range rcpts {
		if err := note(expect(25, "RCPT TO "+rcpt)); err != nil {
			return nil, err
		}
	}
	data, err := expect(354, "DATA")
	if err != nil {
		return nil, err
	}
	if first == nil {
		return data, nil
	}
	if data == nil {
		// DATA was accepted although an earlier command was refused (a
		// server must not do that): end the message at once, empty; the
		// RSET that follows a refusal discards what is left.
		if err := s.c.Text.PrintfLine("."); err != nil {
			return nil, err
		}
		if _, _, err := s.c.Text.ReadResponse(0); err != nil && !isReply(err) {
			return nil, err
		}
	}
	return first, nil
}

// abort ends a refused transaction with RSET, so the connection can carry
// the next message.
func (s *session) abort(r *Result, err error) (Result, error) {
	if err != nil {
		return failed(err), err
	}
	if err := s.c.Text.PrintfLine("RSET"); err != nil {
		return *r, err
	}
	if _, _, err := s.c.Text.ReadResponse(250); err != nil {
		return *r, err
	}
	return *r, nil
}

// refused turns an SMTP reply that refuses a step into a result.
func refused(code int, reply string, err error, step string) (Result, bool) {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return Result{}, false
	}
	out := TempFail
	if te.Code >= 500 {
		out = PermFail
	}
	return Result{Outcome: out, Code: te.Code, Enhanced: enhancedCode(te.Msg),
		Detail: fmt.Sprintf("%s: %d %s", step, te.Code, te.Msg)}, true
}

func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}

// failed is the result of a message whose connection failed under it.
func failed(err error) Result {
	return Result{Outcome: TempFail, Detail: fmt.Sprintf("connection: %v", err)}
}

// enhancedCode is the RFC 3463 status code a reply text starts with, if any.
func enhancedCode(msg string) string {
	first, _, _ := strings.Cut(msg, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.ContainsAny(parts[0], "245") {
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return first
}
