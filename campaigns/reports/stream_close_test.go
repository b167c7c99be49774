package reports_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStreamEndsOnClose: Close ends the open streams, and those opened
// afterwards at once, so a server's graceful shutdown does not wait for the
// browsers holding them.
func TestStreamEndsOnClose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.seed(t, 2, 1000)
	open := func() <-chan sseEvent {
		resp := b.get(t, "/campaigns/"+itoa(c.ID)+"/stream")
		t.Cleanup(func() { resp.Body.Close() })
		return sseReader(t, resp)
	}
	ended := func(events <-chan sseEvent) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-deadline:
				t.Fatal("the stream did not end")
			}
		}
	}
	events := open()
	first, _ := next(t, events)
	require.Equal(t, "report", first.name)
	b.rep.Close()
	ended(events)

	ended(open())
	b.rep.Close() // twice is harmless
}
