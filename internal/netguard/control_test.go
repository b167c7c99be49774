package netguard

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestControlRefusesBeforeConnecting dials a real loopback listener: the
// refused dial never reaches it (the first connection it accepts is the
// allowed one that follows), the allowed dial does.
func TestControlRefusesBeforeConnecting(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ctx := context.Background()

	refused := &net.Dialer{Control: Policy{}.Control}
	_, err = refused.DialContext(ctx, "tcp", ln.Addr().String())
	require.ErrorIs(t, err, ErrNotAllowed)
	require.ErrorContains(t, err, "127.0.0.1 is a loopback address")
	// A name is checked on the address it resolves to.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, err = refused.DialContext(ctx, "tcp4", net.JoinHostPort("localhost", port))
	require.ErrorIs(t, err, ErrNotAllowed)

	allow, err := ParsePolicy("127.0.0.0/8")
	require.NoError(t, err)
	conn, err := (&net.Dialer{Control: allow.Control}).DialContext(ctx, "tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	got, err := ln.Accept()
	require.NoError(t, err)
	defer got.Close()
	require.Equal(t, conn.LocalAddr().String(), got.RemoteAddr().String(), "the first connection the listener saw is the allowed one")
}

func TestControlRefusesOtherNetworksAndGarbage(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, Policy{}.Control("udp", "93.184.216.34:53", nil), ErrNotAllowed)
	require.ErrorIs(t, Policy{}.Control("tcp", "hooks.example:443", nil), ErrNotAllowed)
	require.ErrorIs(t, Policy{}.Control("tcp6", "[::ffff:169.254.169.254]:80", nil), ErrNotAllowed)
	require.NoError(t, Policy{}.Control("tcp4", "93.184.216.34:443", nil))
}
