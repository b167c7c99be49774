package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// PEYKAR_PPROF serves profiles on loopback only: any other address is a
// configuration error, and none serves nothing.
func TestPprofLoopbackOnly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, servePprof(ctx, "", io.Discard))
	require.NoError(t, servePprof(ctx, "127.0.0.1:0", io.Discard))
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:6060", "6060"} {
		require.Error(t, servePprof(ctx, addr, io.Discard), addr)
	}
}
