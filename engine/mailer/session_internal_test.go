package mailer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/internal/smtptest"
)

// TestSessionOutcomes sends a batch mixing accepted, greylisted and refused
// recipients on one connection, pipelined and a command at a time, and
// checks each message's outcome and that the accepted ones arrived intact
// (dot-stuffed lines included).
func TestSessionOutcomes(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		name := mode.name
		sink, err := smtptest.Start(smtptest.Options{Reject: func(rcpt string) *smtp.SMTPError {
			switch {
			case strings.HasPrefix(rcpt, "grey"):
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "try again"}
			case strings.HasPrefix(rcpt, "nobody"):
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}})
		require.NoError(t, err)
		t.Cleanup(func() { sink.Close() })
		client, err := mail.NewClient("127.0.0.1", mail.WithPort(sink.Port()), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("localhost"))
		require.NoError(t, err)
		c, err := client.DialToSMTPClientWithContext(context.Background())
		require.NoError(t, err)
		s := newSession(c, 5*time.Second, nil)
		require.True(t, s.pipelining && s.chunking, "the sink pipelines and takes BDAT")
		s.pipelining, s.chunking = mode.pipelining, mode.chunking

		to := []string{"a@example.com", "grey@example.com", "b@example.com", "nobody@example.com", "c@example.com"}
		msgs := make([]Message, len(to))
		for i, addr := range to {
			m := mail.NewMsg()
			require.NoError(t, m.From("news@shop.example"))
			require.NoError(t, m.To(addr))
			m.Subject("سلام")
			m.SetBodyString(mail.TypeTextPlain, "first line\n.starts with a dot\n..two dots\nlast for "+addr)
			msgs[i] = m
		}
		results := make([]Result, len(msgs))
		require.NoError(t, s.sendAll(msgs, results))
		// The connection is still usable.
		more := make([]Result, 1)
		require.NoError(t, s.sendAll(msgs[:1], more))
		require.NoError(t, client.CloseWithSMTPClient(c))

		require.Equal(t, []Outcome{Sent, TempFail, Sent, PermFail, Sent}, outcomes(results), "%s", name)
		require.Equal(t, Sent, more[0].Outcome)
		require.Equal(t, 451, results[1].Code)
		require.False(t, results[1].AddressBounce())
		require.Equal(t, 550, results[3].Code)
		require.Equal(t, "5.1.1", results[3].Enhanced)
		require.True(t, results[3].AddressBounce())
		require.Contains(t, results[0].Detail, "250")

		got := sink.Messages()
		require.Len(t, got, 4)
		for i, addr := range []string{"a@example.com", "b@example.com", "c@example.com", "a@example.com"} {
			require.Equal(t, []string{addr}, got[i].To)
			body := string(got[i].Data)
			require.Contains(t, body, "\r\n.starts with a dot\r\n..two dots\r\nlast for "+addr)
		}
	}
}

// modes are the session's three ways of running transactions; the test
// sink offers PIPELINING and CHUNKING, so each is chosen by hand.
var modes = []struct {
	name                 string
	pipelining, chunking bool
}{{"chunking", true, true}, {"pipelining", true, false}, {"one at a time", false, false}}

func outcomes(rs []Result) []Outcome {
	out := make([]Outcome, len(rs))
	for i, r := range rs {
		out[i] = r.Outcome
	}
	return out
}

// TestSessionAfterIdle: a pooled connection idle past its last deadline
// still sends (the deadline is renewed before the first write). Without
// that, a send job retried after a backoff failed its first message with
// an i/o timeout every time, and the campaign never finished.
func TestSessionAfterIdle(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		name := mode.name
		sink, err := smtptest.Start(smtptest.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { sink.Close() })
		client, err := mail.NewClient("127.0.0.1", mail.WithPort(sink.Port()), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("localhost"))
		require.NoError(t, err)
		c, err := client.DialToSMTPClientWithContext(context.Background())
		require.NoError(t, err)
		s := newSession(c, 5*time.Second, nil)
		s.pipelining, s.chunking = mode.pipelining, mode.chunking
		msg := mail.NewMsg()
		require.NoError(t, msg.From("news@shop.example"))
		require.NoError(t, msg.To("a@example.com"))
		msg.SetBodyString(mail.TypeTextPlain, "hello")
		results := make([]Result, 1)
		require.NoError(t, s.sendAll([]Message{msg}, results))
		require.Equal(t, Sent, results[0].Outcome)
		// Idle in the pool past the deadline: put it in the past, as
		// waiting would, without waiting.
		require.NoError(t, c.UpdateDeadline(-time.Second))
		require.NoError(t, s.sendAll([]Message{msg}, results), "%s", name)
		require.Equal(t, Sent, results[0].Outcome, "%s: %s", name, results[0].Detail)
		require.NoError(t, client.CloseWithSMTPClient(c))
		require.Len(t, sink.Messages(), 2)
	}
}

// TestSessionProtocolErrorIsNotABounce: a 500–504 reply about the
// conversation ("501 5.5.2 Syntax error", what a server answers a pipelined
// session that lost its place) fails the connection and leaves the message
// temporarily failed, to be tried again on a fresh connection; the same
// code with a 5.1.x enhanced code is about the address and stays a
// permanent refusal, an address bounce.
func TestSessionProtocolErrorIsNotABounce(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		name := mode.name
		sink, err := smtptest.Start(smtptest.Options{Reject: func(rcpt string) *smtp.SMTPError {
			switch {
			case strings.HasPrefix(rcpt, "garbled"):
				return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Syntax error"}
			case strings.HasPrefix(rcpt, "sequence"):
				return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.NoEnhancedCode, Message: "Bad sequence of commands"}
			case strings.HasPrefix(rcpt, "badsyntax"):
				return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
			}
			return nil
		}})
		require.NoError(t, err)
		t.Cleanup(func() { sink.Close() })
		client, err := mail.NewClient("127.0.0.1", mail.WithPort(sink.Port()), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("localhost"))
		require.NoError(t, err)
		msg := func(to string) *mail.Msg {
			m := mail.NewMsg()
			require.NoError(t, m.From("news@shop.example"))
			require.NoError(t, m.To(to))
			m.SetBodyString(mail.TypeTextPlain, "hello "+to)
			return m
		}
		send := func(to ...string) ([]Result, error) {
			c, err := client.DialToSMTPClientWithContext(context.Background())
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.CloseWithSMTPClient(c) })
			s := newSession(c, 5*time.Second, nil)
			s.pipelining, s.chunking = mode.pipelining, mode.chunking
			msgs := make([]Message, len(to))
			for i, addr := range to {
				msgs[i] = msg(addr)
			}
			results := make([]Result, len(msgs))
			return results, s.sendAll(msgs, results)
		}

		for _, bad := range []string{"garbled@example.com", "sequence@example.com"} {
			results, err := send("a@example.com", bad, "b@example.com")
			require.Error(t, err, "%s, %s: the connection is dropped", name, bad)
			require.Equal(t, []Outcome{Sent, TempFail, TempFail}, outcomes(results), "%s, %s", name, bad)
			require.False(t, results[1].AddressBounce(), "%s, %s", name, bad)
			require.Contains(t, results[1].Detail, "50", "the reply is kept for the log")
		}

		results, err := send("badsyntax@example.com", "c@example.com")
		require.NoError(t, err, "%s: a refusal keeps the connection", name)
		require.Equal(t, []Outcome{PermFail, Sent}, outcomes(results), "%s", name)
		require.Equal(t, "5.1.3", results[0].Enhanced)
		require.True(t, results[0].AddressBounce())
	}
}

// TestSessionEachMessageItsOwn: in every mode, pooled buffers are reused
// message after message (the message's form, and with BDAT its content
// without dot-stuffing); every recipient must get exactly its own message,
// byte for byte — bodies of different lengths in a row, so a buffer that
// kept a longer message's tail would show, and a line starting with a dot,
// stuffed for DATA and sent as it is with BDAT. When the connection fails
// under a message, the messages after it are temporarily failed: with DATA
// they were not sent; with BDAT those written in the same window may have
// arrived (here they did), which is why the window is bounded.
func TestSessionEachMessageItsOwn(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		sink, err := smtptest.Start(smtptest.Options{Reject: func(rcpt string) *smtp.SMTPError {
			if strings.HasPrefix(rcpt, "garbled") {
				return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Syntax error"}
			}
			return nil
		}})
		require.NoError(t, err)
		t.Cleanup(func() { sink.Close() })
		client, err := mail.NewClient("127.0.0.1", mail.WithPort(sink.Port()), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("localhost"))
		require.NoError(t, err)
		send := func(to []string) ([]Result, []string, error) {
			c, err := client.DialToSMTPClientWithContext(context.Background())
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.CloseWithSMTPClient(c) })
			s := newSession(c, 5*time.Second, nil)
			s.pipelining, s.chunking = mode.pipelining, mode.chunking
			msgs := make([]Message, len(to))
			want := make([]string, len(to))
			for i, addr := range to {
				m := mail.NewMsg()
				require.NoError(t, m.From("news@shop.example"))
				require.NoError(t, m.To(addr))
				m.SetBodyString(mail.TypeTextPlain, "for "+addr+"\n.dot line\n"+strings.Repeat("x", 4000*(i%2)+i)+"\nend of "+addr)
				var b strings.Builder
				_, err := m.WriteTo(&b) // sets Date and Message-ID, so the send writes the same bytes
				require.NoError(t, err)
				// The content's last line gets its line end on the wire.
				msgs[i], want[i] = m, strings.TrimSuffix(b.String(), "\r\n")+"\r\n"
			}
			results := make([]Result, len(msgs))
			return results, want, s.sendAll(msgs, results)
		}

		to := make([]string, 20) // more than a BDAT window
		for i := range to {
			to[i] = fmt.Sprintf("user%d@example.com", i)
		}
		results, want, err := send(to)
		require.NoError(t, err, mode.name)
		for i := range to {
			require.Equal(t, Sent, results[i].Outcome, "%s: %s", mode.name, to[i])
		}
		got := sink.Messages()
		require.Len(t, got, len(to), mode.name)
		for i, m := range got {
			require.Equal(t, []string{to[i]}, m.To, mode.name)
			require.Equal(t, want[i], string(m.Data), "%s: message %d arrived as it was built", mode.name, i)
		}

		results, _, err = send([]string{"a@example.com", "garbled@example.com", "b@example.com", "c@example.com"})
		require.Error(t, err, "%s: the protocol error drops the connection", mode.name)
		require.Equal(t, []Outcome{Sent, TempFail, TempFail, TempFail}, outcomes(results), mode.name)
		arrived := []string{"a@example.com"}
		if mode.chunking {
			// The server goes on with the window after its refusal, on its
			// own time: wait for it (the connection stays open until the
			// test ends).
			arrived = append(arrived, "b@example.com", "c@example.com")
			require.Eventually(t, func() bool { return sink.Count() >= len(to)+len(arrived) },
				10*time.Second, 5*time.Millisecond, mode.name)
		} else {
			require.Contains(t, results[2].Detail, "not sent", mode.name)
		}
		var after []string
		for _, m := range sink.Messages()[len(to):] {
			after = append(after, m.To...)
		}
		require.Equal(t, arrived, after, mode.name)
	}
}
