package mailer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/internal/baseservice"
	"github.com/peykar/peykar/internal/smtptest"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func testMsgs(t *testing.T, n int) []*mail.Msg {
	t.Helper()
	out := make([]*mail.Msg, n)
	for i := range out {
		out[i] = mail.NewMsg()
		require.NoError(t, out[i].From("news@shop.example"))
		require.NoError(t, out[i].To("a@example.com"))
		out[i].SetBodyString(mail.TypeTextPlain, "hello")
	}
	return out
}

// TestMailerReplacesConnectionsTheServerClosed: a pooled connection the
// server closed while it sat idle is found out (NOOP) and replaced before
// a chunk is sent on it, so no message fails for it. The test waits for
// the server's hang-up, then moves the mailer's clock past its idle check.
func TestMailerReplacesConnectionsTheServerClosed(t *testing.T) {
	t.Parallel()
	hungUp := make(chan struct{}, 4)
	sink, err := smtptest.Start(smtptest.Options{IdleTimeout: 100 * time.Millisecond, OnEnd: func() { hungUp <- struct{}{} }})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	clock := &fakeClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	m, err := New(Config{Host: "127.0.0.1", Port: sink.Port(), TLS: TLSNone, Pool: 1}, baseservice.New(nil, clock.Now))
	require.NoError(t, err)
	t.Cleanup(m.Close)

	results, err := m.Send(context.Background(), testMsgs(t, 1))
	require.NoError(t, err)
	require.Equal(t, Sent, results[0].Outcome)

	select {
	case <-hungUp: // the server hung up on the idle connection
	case <-time.After(30 * time.Second):
		t.Fatal("the server never closed the idle session")
	}
	clock.Add(m.checkAfter + time.Second)
	results, err = m.Send(context.Background(), testMsgs(t, 3))
	require.NoError(t, err)
	for _, r := range results {
		require.Equal(t, Sent, r.Outcome, r.Detail)
	}
	require.Len(t, sink.Messages(), 4)
}

// TestChunkingOff: with SMTP_URL's chunking=off a transport keeps to DATA
// on a server that offers CHUNKING (as the test sink, go-smtp, does), and
// uses BDAT by default, with chunking=auto and with chunking=on; any other
// value is refused at start-up.
func TestChunkingOff(t *testing.T) {
	t.Parallel()
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	for _, tc := range []struct {
		param    string
		chunking bool
	}{{"", true}, {"&chunking=auto", true}, {"&chunking=on", true}, {"&chunking=off", false}} {
		cfg, err := ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none%s", sink.Port(), tc.param))
		require.NoError(t, err, tc.param)
		m, err := New(cfg, baseservice.Base{})
		require.NoError(t, err)
		t.Cleanup(m.Close)
		c, err := m.client.DialToSMTPClientWithContext(context.Background())
		require.NoError(t, err)
		require.Equal(t, tc.chunking, m.session(c).chunking, tc.param)
		require.NoError(t, m.client.CloseWithSMTPClient(c))
		results, err := m.Send(context.Background(), testMsgs(t, 2))
		require.NoError(t, err, tc.param)
		require.Equal(t, []Outcome{Sent, Sent}, outcomes(results), tc.param)
		want := int64(0)
		if tc.chunking {
			want = 2
		}
		require.Equal(t, want, m.ChunkedSent(), tc.param)
	}
	_, err = ParseURL("smtp://127.0.0.1:25?tls=none&chunking=yes")
	require.ErrorContains(t, err, `chunking="yes" must be auto, on or off`)
}

// TestChunkingByDefault: a transport configured without chunking sends by
// BDAT to go-smtp (which offers CHUNKING and PIPELINING): the server
// accepts each message, intact, from a BDAT transaction, and none goes by
// DATA.
func TestChunkingByDefault(t *testing.T) {
	t.Parallel()
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	cfg, err := ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=2", sink.Port()))
	require.NoError(t, err)
	require.False(t, cfg.NoChunking)
	m, err := New(cfg, baseservice.Base{})
	require.NoError(t, err)
	t.Cleanup(m.Close)
	msgs := testMsgs(t, 4)
	for _, msg := range msgs {
		msg.SetBodyString(mail.TypeTextPlain, "first\n.a dot, not stuffed by BDAT\nlast")
	}
	results, err := m.Send(context.Background(), msgs)
	require.NoError(t, err)
	require.Equal(t, []Outcome{Sent, Sent, Sent, Sent}, outcomes(results))
	require.Equal(t, int64(4), m.ChunkedSent())
	got := sink.Messages()
	require.Len(t, got, 4)
	for _, msg := range got {
		require.Contains(t, string(msg.Data), "\r\n.a dot, not stuffed by BDAT\r\nlast")
	}
}

// TestWriteCheckComesLast: Send runs the check of WithWriteCheck once it
// holds a connection (a caller frozen while it waited for one is checked
// after the wait), and when the check fails it writes nothing, returns the
// check's error and keeps the connection for the next call.
func TestWriteCheckComesLast(t *testing.T) {
	t.Parallel()
	sink, err := smtptest.Start(smtptest.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	m, err := New(Config{Host: "127.0.0.1", Port: sink.Port(), TLS: TLSNone, Pool: 1}, baseservice.Base{})
	require.NoError(t, err)
	t.Cleanup(m.Close)

	fenced := errors.New("presumed dead")
	held := -1
	ctx := WithWriteCheck(context.Background(), func(context.Context) error {
		held = len(m.slots)
		return fenced
	})
	results, err := m.Send(ctx, testMsgs(t, 4))
	require.ErrorIs(t, err, fenced)
	require.Nil(t, results)
	require.Equal(t, 1, held, "checked with the pool's one connection held")
	require.Zero(t, sink.Count(), "nothing written")

	ok := WithWriteCheck(context.Background(), func(context.Context) error { return nil })
	results, err = m.Send(ok, testMsgs(t, 2))
	require.NoError(t, err)
	require.Equal(t, []Outcome{Sent, Sent}, outcomes(results))
	require.Equal(t, 2, sink.Count())
	require.Len(t, m.idle, 1, "the connection went back to the pool")
}
