package mailer

import (
	"bytes"
	"strconv"
)

// chunkWindow is how many transactions sendChunked writes before it reads
// their replies. When the connection fails, each message of the window it
// failed under is temporarily failed without knowing whether it arrived,
// so the window bounds what a broken connection can make a retry send
// twice (a campaign's sender hands the mailer sendSlice = 4 messages at a
// time, already counted in the process's crash-window reservation). A
// window also ends once it holds windowBytes of content, so large messages
// do not pile up in memory.
const (
	chunkWindow = 8
	windowBytes = 64 << 10
)

// sendChunked runs the transactions with BDAT (RFC 3030) a window at a
// time: each transaction is RSET, MAIL, RCPT and "BDAT size LAST" followed
// by the content as the server is to store it, with no reply awaited in
// between, so a window costs one write and one round trip instead of one
// per message, and its replies are read together. RSET first makes every
// transaction independent of the one before, refused or not (after a
// refused recipient the server still holds the MAIL). The content is what
// a DATA transaction's dot-stuffed form stores (writeLines without
// stuffing), so a recipient gets the same bytes either way.
func (s *session) sendChunked(msgs []Message, results []Result) error {
	for next := 0; next < len(msgs); {
		var win []*chunked
		size := 0
		for ; next < len(msgs) && len(win) < chunkWindow && size < windowBytes; next++ {
			p, bad := s.prepare(next, msgs[next])
			if bad != nil {
				results[next] = *bad
				continue
			}
			c := newChunked(p)
			size += c.content.Len()
			win = append(win, c)
		}
		err := s.sendWindow(win, results)
		for _, c := range win {
			c.release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendWindow writes a window's transactions and reads their replies. When
// the connection fails, every message of the window from the one it failed
// under on is temporarily failed: written, it may have arrived.
func (s *session) sendWindow(win []*chunked, results []Result) error {
	if len(win) == 0 {
		return nil
	}
	// A connection that waited in the pool may be past its deadline.
	err := s.c.UpdateDeadline(s.timeout)
	if err == nil {
		// The window is assembled first and handed to the connection's
		// writer whole: larger than its 4 kB buffer, it goes out in one
		// write system call, where writing it piece by piece through the
		// buffer took one per 4 kB (about three per window of four
		// messages), each also waking the server for a part of a command.
		wb := bodyBuffers.Get().(*bytes.Buffer)
		wb.Reset()
		for _, c := range win {
			s.writeChunked(wb, c)
		}
		if _, err = s.c.Text.W.Write(wb.Bytes()); err == nil {
			err = s.c.Text.W.Flush()
		}
		bodyBuffers.Put(wb)
	}
	for _, c := range win {
		if err == nil {
			results[c.idx], err = s.readChunked(c)
		}
		if err != nil {
			results[c.idx] = failed(err)
		}
	}
	return err
}

// chunked is a prepared message and its content as BDAT sends it.
type chunked struct {
	*prepared
	content *bytes.Buffer
}

// newChunked takes the built message as its content when writeLines
// would leave it as it is (go-mail ends every line with CRLF), and
// otherwise a copy that writeLines made right: a message's bytes are
// copied once less.
func newChunked(p *prepared) *chunked {
	if crlfLines(p.body.Bytes()) {
		return &chunked{prepared: p, content: p.body}
	}
	content := bodyBuffers.Get().(*bytes.Buffer)
	content.Reset()
	writeLines(content, p.body.Bytes(), false)
	return &chunked{prepared: p, content: content}
}

func (c *chunked) release() {
	if c.content != c.body {
		bodyBuffers.Put(c.content)
	}
	c.prepared.release()
}

// crlfLines reports whether writeLines without stuffing writes b as it
// is: b is empty or ends with a line end, and every line end is CRLF.
func crlfLines(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	return b[len(b)-1] == '\n' && bytes.Count(b, []byte("\n")) == bytes.Count(b, []byte("\r\n"))
}

// writeChunked adds one transaction to a window.
func (s *session) writeChunked(w *bytes.Buffer, c *chunked) {
	_, _ = w.WriteString("RSET\r\nMAIL FROM:" + c.from + s.mailParams + "\r\n")
	for _, r := range c.rcpts {
		_, _ = w.WriteString("RCPT TO:" + r + "\r\n")
	}
	_, _ = w.WriteString("BDAT " + strconv.Itoa(c.content.Len()) + " LAST\r\n")
	_, _ = w.Write(c.content.Bytes())
}

// readChunked reads one transaction's replies: RSET, MAIL, each RCPT and
// BDAT. The first refusal decides the message's outcome (the BDAT after a
// refused recipient is refused in turn: "503 no valid recipients"); a
// reply to RSET other than 250, or a protocol error (protocolError), fails
// the connection.
func (s *session) readChunked(c *chunked) (Result, error) {
	if _, _, err := s.c.Text.ReadResponse(250); err != nil {
		return failed(err), err
	}
	var first *Result
	read := func(code int, step string) (int, string, error) {
		got, reply, err := s.c.Text.ReadResponse(code)
		if first != nil && isReply(err) {
			return got, reply, nil
		}
		if r, ok := refused(got, reply, err, step); ok {
			first = &r
			return got, reply, nil
		}
		return got, reply, err
	}
	if _, _, err := read(250, "MAIL FROM"); err != nil {
		return failed(err), err
	}
	for _, rcpt := range c.rcpts {
		if _, _, err := read(25, "RCPT TO "+rcpt); err != nil {
			return failed(err), err
		}
	}
	code, reply, err := read(250, "BDAT")
	if err != nil {
		return failed(err), err
	}
	if first != nil {
		return *first, nil
	}
	return Result{Outcome: Sent, Code: code, Detail: strconv.Itoa(code) + " " + reply}, nil
}
