package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

// lockedBuffer collects a Main's log lines, written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAccessLogRedactsSetupLink starts a first run, which prints the
// one-time setup link (stdout and one log line, for the operator), follows
// the link, and reads the access log: the request is logged, its token is
// not.
func TestAccessLogRedactsSetupLink(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewDSN(t), "PEYKAR_ADDR": "127.0.0.1:0", "PEYKAR_DATA_DIR": t.TempDir()}
	cfg, _, err := LoadConfig(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	var stdout, logs lockedBuffer
	m := NewMain(cfg, &stdout, &logs)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	token := regexp.MustCompile(`/admin/setup\?token=(setup_[A-Za-z0-9_-]{43})\n`).FindStringSubmatch(stdout.String())
	require.NotNil(t, token, "the setup link is printed: %s", stdout.String())
	secret := token[1]
	require.Equal(t, 1, strings.Count(logs.String(), secret), "the startup line names the link once:\n%s", logs.String())

	code, _ := get(t, m.URL()+"/admin/setup?token="+secret)
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `msg=http method=GET uri="/admin/setup?token=[redacted]" status=200`)
	}, 10*time.Second, 5*time.Millisecond, logs.String())
	require.Equal(t, 1, strings.Count(logs.String(), secret), "the access log does not repeat the token:\n%s", logs.String())
}
