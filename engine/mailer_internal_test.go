package engine

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/internal/smtptest"
)

// TestMailerReplacesConnectionsTheServerClosed: a pooled connection the
// server closed while it sat idle is found out (NOOP) and replaced before
// a chunk is sent on it, so no message fails for it.
func TestMailerReplacesConnectionsTheServerClosed(t *testing.T) {
	t.Parallel()
	const serverIdle = 300 * time.Millisecond
	sink, err := smtptest.Start(smtptest.Options{IdleTimeout: serverIdle})
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	m, err := NewMailer(SMTPConfig{Host: "127.0.0.1", Port: sink.Port(), TLS: TLSNone, Pool: 1}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(m.Close)
	m.checkAfter = serverIdle / 3

	msgs := func(n int) []*mail.Msg {
		out := make([]*mail.Msg, n)
		for i := range out {
			out[i] = mail.NewMsg()
			require.NoError(t, out[i].From("news@shop.example"))
			require.NoError(t, out[i].To("a@example.com"))
			out[i].SetBodyString(mail.TypeTextPlain, "hello")
		}
		return out
	}
	results, err := m.Send(context.Background(), msgs(1))
	require.NoError(t, err)
	require.Equal(t, Sent, results[0].Outcome)

	time.Sleep(3 * serverIdle) // the server hangs up on the idle connection
	results, err = m.Send(context.Background(), msgs(3))
	require.NoError(t, err)
	for _, r := range results {
		require.Equal(t, Sent, r.Outcome, r.Detail)
	}
	require.Len(t, sink.Messages(), 4)
}
