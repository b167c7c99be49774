package mailer

import (
	"bufio"
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
	// chunking: the server takes BDAT (RFC 3030) as well as PIPELINING,
	// so transactions need no 354 round trip and go out a window at a
	// time (sendChunked).
	chunking   bool
	mailParams string // " BODY=8BITMIME SMTPUTF8" as the server supports
}

func newSession(c *smtp.Client, timeout time.Duration, dkim *mail.DKIMSigner) *session {
	s := &session{c: c, timeout: timeout, dkim: dkim}
	s.pipelining, _ = c.Extension("PIPELINING")
	if ok, _ := c.Extension("CHUNKING"); ok && s.pipelining {
		s.chunking = true
	}
	if ok, _ := c.Extension("8BITMIME"); ok {
		s.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		s.mailParams += " SMTPUTF8"
	}
	return s
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// prepared is a message built and ready for a transaction.
type prepared struct {
	idx   int
	from  string
	rcpts []string
	body  *bytes.Buffer
}

func (p *prepared) release() { bodyBuffers.Put(p.body) }

// prepare builds msgs[i], or returns the result that it cannot be sent.
// The whole message is built before its transaction starts, so a message
// that cannot be built never leaves a half-sent DATA behind.
func (s *session) prepare(i int, msg Message) (*prepared, *Result) {
	from, err := msg.GetSender(false)
	if err != nil {
		return nil, &Result{Outcome: TempFail, Detail: fmt.Sprintf("sender: %v", err)}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return nil, &Result{Outcome: TempFail, Detail: fmt.Sprintf("recipients: %v", err)}
	}
	if strings.ContainsAny(from, "\r\n") {
		return nil, &Result{Outcome: PermFail, Detail: fmt.Sprintf("address %q contains a line break", from)}
	}
	for _, a := range rcpts {
		if strings.ContainsAny(a, "\r\n") {
			return nil, &Result{Outcome: PermFail, Detail: fmt.Sprintf("address %q contains a line break", a)}
		}
	}
	body := bodyBuffers.Get().(*bytes.Buffer)
	body.Reset()
	if s.dkim != nil {
		err = writeSigned(body, msg, s.dkim)
	} else {
		_, err = msg.WriteTo(body)
	}
	if err != nil {
		bodyBuffers.Put(body)
		return nil, &Result{Outcome: TempFail, Detail: fmt.Sprintf("build message: %v", err)}
	}
	return &prepared{idx: i, from: from, rcpts: rcpts, body: body}, nil
}

// sendAll runs a transaction per message, filling results. A non-nil error
// means the connection can no longer be used (network error, timeout,
// protocol out of step); the message it failed under is temporarily failed,
// not knowing whether it arrived, and the ones after it are not tried.
func (s *session) sendAll(msgs []Message, results []Result) error {
	for i := range results {
		results[i] = Result{Outcome: TempFail, Detail: "not sent: the connection failed"}
	}
	if s.chunking {
		return s.sendChunked(msgs, results)
	}
	if s.pipelining {
		return s.sendPipelined(msgs, results)
	}
	for i, msg := range msgs {
		p, bad := s.prepare(i, msg)
		if bad != nil {
			results[i] = *bad
			continue
		}
		r, err := s.send(p)
		p.release()
		results[i] = r
		if err != nil {
			return err
		}
	}
	return nil
}

// send runs one transaction, a command at a time.
func (s *session) send(p *prepared) (Result, error) {
	if err := s.c.UpdateDeadline(s.timeout); err != nil {
		return failed(err), err
	}
	r, err := s.envelope(p.from, p.rcpts)
	if err != nil || r != nil {
		return s.abort(r, err)
	}
	writeDotted(s.c.Text.W, p.body.Bytes())
	if err := s.c.Text.W.Flush(); err != nil {
		return failed(err), err
	}
	return s.endOfData()
}

// endOfData reads the reply to a message's content.
func (s *session) endOfData() (Result, error) {
	code, reply, err := s.c.Text.ReadResponse(250)
	if res, ok := refused(code, reply, err, "end of data"); ok {
		return res, nil
	} else if err != nil {
		return failed(err), err
	}
	return Result{Outcome: Sent, Code: code, Detail: fmt.Sprintf("%d %s", code, reply)}, nil
}

// sendPipelined runs the transactions with one write per message: a
// message's content and end of data go out with the next message's MAIL,
// RCPT and DATA (RFC 2920 §3.1 lets content lead a group), or with RSET and
// the next envelope after a refusal.
func (s *session) sendPipelined(msgs []Message, results []Result) error {
	w := s.c.Text.W
	next := func(from int) *prepared {
		for i := from; i < len(msgs); i++ {
			p, bad := s.prepare(i, msgs[i])
			if bad == nil {
				return p
			}
			results[i] = *bad
		}
		return nil
	}
	cur := next(0)
	if cur == nil {
		return nil
	}
	defer func() {
		if cur != nil {
			cur.release()
		}
	}()
	// The connection may have waited in the pool since its last deadline
	// passed: set a fresh one before the first write, or that write fails
	// at once with an i/o timeout.
	if err := s.c.UpdateDeadline(s.timeout); err != nil {
		results[cur.idx] = failed(err)
		return err
	}
	s.writeEnvelope(cur)
	if err := w.Flush(); err != nil {
		results[cur.idx] = failed(err)
		return err
	}
	for cur != nil {
		if err := s.c.UpdateDeadline(s.timeout); err != nil {
			results[cur.idx] = failed(err)
			return err
		}
		refusal, err := s.readEnvelope(cur)
		if err != nil {
			results[cur.idx] = failed(err)
			return err
		}
		after := next(cur.idx + 1)
		if refusal != nil {
			_, _ = w.WriteString("RSET\r\n")
		} else {
			writeDotted(w, cur.body.Bytes())
		}
		if after != nil {
			s.writeEnvelope(after)
		}
		err = w.Flush()
		if err == nil {
			if refusal != nil {
				results[cur.idx] = *refusal
				_, _, err = s.c.Text.ReadResponse(250)
			} else {
				results[cur.idx], err = s.endOfData()
			}
		}
		if err != nil {
			if refusal == nil {
				results[cur.idx] = failed(err)
			}
			if after != nil {
				after.release()
			}
			return err
		}
		cur.release()
		cur = after
	}
	return nil
}

// writeEnvelope buffers MAIL, RCPT and DATA.
func (s *session) writeEnvelope(p *prepared) {
	w := s.c.Text.W
	_, _ = w.WriteString("MAIL FROM:" + p.from + s.mailParams + "\r\n")
	for _, r := range p.rcpts {
		_, _ = w.WriteString("RCPT TO:" + r + "\r\n")
	}
	_, _ = w.WriteString("DATA\r\n")
}

// readEnvelope reads the replies to a pipelined envelope. It returns the
// first refusal, after which the content must not be sent.
func (s *session) readEnvelope(p *prepared) (*Result, error) {
	var first *Result
	read := func(code int, step string) (bool, error) {
		got, reply, err := s.c.Text.ReadResponse(code)
		if first != nil && isReply(err) {
			// The commands after a refusal are refused in turn (DATA
			// with "502 5.5.1 Missing RCPT TO"): the first one decides.
			return false, nil
		}
		if r, ok := refused(got, reply, err, step); ok {
			first = &r
			return false, nil
		}
		return err == nil, err
	}
	if _, err := read(250, "MAIL FROM"); err != nil {
		return nil, err
	}
	for _, rcpt := range p.rcpts {
		if _, err := read(25, "RCPT TO "+rcpt); err != nil {
			return nil, err
		}
	}
	dataOK, err := read(354, "DATA")
	if err != nil {
		return nil, err
	}
	if first != nil && dataOK {
		// DATA was accepted although an earlier command was refused (a
		// server must not do that): end the message at once, empty; the
		// RSET that follows a refusal discards what is left.
		_, _ = s.c.Text.W.WriteString(".\r\n")
		if err := s.c.Text.W.Flush(); err != nil {
			return nil, err
		}
		if _, _, err := s.c.Text.ReadResponse(0); err != nil && !isReply(err) {
			return nil, err
		}
	}
	return first, nil
}

// writeDotted buffers a message's content with dot-stuffing, CRLF line
// ends and the terminating ".".
func writeDotted(w *bufio.Writer, b []byte) {
	writeLines(w, b, true)
	_, _ = w.WriteString(".\r\n")
}

// lineWriter is what writeLines writes to: a bufio.Writer on the
// connection, or a bytes.Buffer.
type lineWriter interface {
	Write([]byte) (int, error)
	WriteByte(byte) error
	WriteString(string) (int, error)
}

// writeLines writes a message's content with CRLF line ends, a line end
// after the last line, and, with stuff, a dot doubled at the start of a
// line (RFC 5321 §4.5.2). Without stuff it is what the server stores of
// the stuffed form, which BDAT sends as it is. Runs of lines that need no
// change (go-mail ends its lines with CRLF, and few start with a dot) go
// out in one write.
func writeLines(w lineWriter, b []byte, stuff bool) {
	start, pos := 0, 0 // b[start:pos] goes out as it is
	for pos < len(b) {
		i := bytes.IndexByte(b[pos:], '\n')
		if i > 0 && (!stuff || b[pos] != '.') && b[pos+i-1] == '\r' {
			pos += i + 1
			continue
		}
		_, _ = w.Write(b[start:pos])
		line := b[pos:]
		if i >= 0 {
			line = b[pos : pos+i]
			pos += i + 1
		} else {
			pos = len(b)
		}
		start = pos
		if stuff && len(line) > 0 && line[0] == '.' {
			_ = w.WriteByte('.')
		}
		_, _ = w.Write(bytes.TrimSuffix(line, []byte("\r")))
		_, _ = w.WriteString("\r\n")
	}
	_, _ = w.Write(b[start:pos])
}

// envelope sends MAIL, RCPT and DATA a command at a time and reads their
// replies. It returns a non-nil result when the server refused one of them
// and the content must not be sent.
func (s *session) envelope(from string, rcpts []string) (*Result, error) {
	w := s.c.Text.W
	step := func(cmd string, code int, name string) (*Result, error) {
		_, _ = w.WriteString(cmd + "\r\n")
		if err := w.Flush(); err != nil {
			return nil, err
		}
		got, reply, err := s.c.Text.ReadResponse(code)
		if res, ok := refused(got, reply, err, name); ok {
			return &res, nil
		}
		return nil, err
	}
	if r, err := step("MAIL FROM:"+from+s.mailParams, 250, "MAIL FROM"); r != nil || err != nil {
		return r, err
	}
	for _, rcpt := range rcpts {
		if r, err := step("RCPT TO:"+rcpt, 25, "RCPT TO "+rcpt); r != nil || err != nil {
			return r, err
		}
	}
	return step("DATA", 354, "DATA")
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

// refused turns an SMTP reply that refuses a step into a result. A
// protocol error is not a refusal: it is left to the caller as the
// connection's failure (see protocolError).
func refused(code int, reply string, err error, step string) (Result, bool) {
	var te *textproto.Error
	if !errors.As(err, &te) || protocolError(te) {
		return Result{}, false
	}
	out := TempFail
	if te.Code >= 500 {
		out = PermFail
	}
	return Result{Outcome: out, Code: te.Code, Enhanced: enhancedCode(te.Msg),
		Detail: fmt.Sprintf("%s: %d %s", step, te.Code, te.Msg)}, true
}

// protocolError tells a reply about the conversation itself (500–504:
// command unrecognised, bad syntax, bad sequence, not implemented; RFC 5321
// §4.2.2) from a refusal of the message or its recipient. After a pipelined
// session lost its place (its process was frozen, a reply went missing) the
// server answers what it reads as garbage with "501 5.5.2 Syntax error":
// that says nothing about the recipient, so the message is not bounced; the
// session is dropped and the message tried again on a fresh connection (the
// attempts stay bounded by the send job's). A 5.1.x enhanced code (e.g. "501
// 5.1.3 Bad recipient address syntax") is about the address and stays a
// refusal.
func protocolError(te *textproto.Error) bool {
	if te.Code < 500 || te.Code > 504 {
		return false
	}
	return !strings.HasPrefix(enhancedCode(te.Msg), "5.1.")
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
