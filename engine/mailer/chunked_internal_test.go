package mailer

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/peykar/peykar/internal/smtptest"
)

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestChunkedWindowIsOneWrite: a BDAT window of four messages of about
// 3 kB each, 12 kB in all, three times the connection writer's buffer,
// reaches the connection in one write, and every message arrives whole.
func TestChunkedWindowIsOneWrite(t *testing.T) {
	t.Parallel()
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(sink.Port()))
	require.NoError(t, err)
	conn := &countingConn{Conn: raw}
	c, err := smtp.NewClient(conn, "127.0.0.1")
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Hello("localhost"))
	s := newSession(c, 5*time.Second, nil)
	require.True(t, s.chunking, "the sink takes BDAT")

	msgs := make([]Message, 4)
	for i := range msgs {
		m := mail.NewMsg()
		require.NoError(t, m.From("news@shop.example"))
		require.NoError(t, m.To("user"+strconv.Itoa(i)+"@example.com"))
		m.SetBodyString(mail.TypeTextPlain, strings.Repeat("line of text "+strconv.Itoa(i)+"\n", 200))
		msgs[i] = m
	}
	results := make([]Result, len(msgs))
	before := conn.writes.Load()
	require.NoError(t, s.sendAll(msgs, results))
	require.Equal(t, int64(1), conn.writes.Load()-before, "one write for the window")
	for i, r := range results {
		require.Equal(t, Sent, r.Outcome, "%d: %s", i, r.Detail)
	}
	got := sink.Messages()
	require.Len(t, got, 4)
	for i, m := range got {
		require.Contains(t, string(m.Data), strings.Repeat("line of text "+strconv.Itoa(i)+"\r\n", 200))
	}
}
