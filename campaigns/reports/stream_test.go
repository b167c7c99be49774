package reports_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/tracking"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	id   int64
	name string
	data string
}

// sseReader reads events from a stream in a goroutine.
func sseReader(t *testing.T, resp *http.Response) <-chan sseEvent {
	t.Helper()
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[6:]
			}
		}
	}()
	return out
}

func next(t *testing.T, ch <-chan sseEvent) (sseEvent, campaigns.Report) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "stream ended")
		var r campaigns.Report
		require.NoError(t, json.Unmarshal([]byte(ev.data), &r))
		return ev, r
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	panic("unreachable")
}

func TestStreamPushesUpdatesAndResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.seed(t, 5, 1000)
	b.launch(t, c)
	ids, sentAt := b.deliveries(t, c.ID)

	ctx1, cancel1 := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx1, http.MethodGet, b.url+"/campaigns/"+itoa(c.ID)+"/stream", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := sseReader(t, resp)

	first, r := next(t, events)
	require.Equal(t, "report", first.name)
	require.Positive(t, first.id)
	require.EqualValues(t, 5, r.Metrics.Sent)
	require.Zero(t, r.Metrics.Opens)

	// A tracked open reaches the stream.
	_, err = b.tracking.Record(ctx, tracking.Event{Type: tracking.TypeOpen, DeliveryID: ids[0], At: sentAt[ids[0]].Add(time.Minute)})
	require.NoError(t, err)
	var last sseEvent
	for {
		ev, r := next(t, events)
		require.Greater(t, ev.id, first.id, "event ids increase")
		if r.Metrics.Opens == 1 {
			last = ev
			var extra struct {
				Changed  []string          `json:"changed"`
				Tail     []json.RawMessage `json:"timeline_tail"`
				Timeline []json.RawMessage `json:"timeline"`
			}
			require.NoError(t, json.Unmarshal([]byte(ev.data), &extra))
			require.Contains(t, extra.Changed, "opens")
			require.NotContains(t, extra.Changed, "sent")
			require.NotEmpty(t, extra.Tail)
			require.Nil(t, extra.Timeline, "events carry the timeline's tail only")
			break
		}
	}
	cancel1()
	resp.Body.Close()

	// Reconnect with Last-Event-ID: the current state at once, then updates.
	resp2 := b.get(t, "/campaigns/"+itoa(c.ID)+"/stream", "Last-Event-ID", strconv.FormatInt(last.id, 10))
	defer resp2.Body.Close()
	events2 := sseReader(t, resp2)
	ev, r := next(t, events2)
	require.GreaterOrEqual(t, ev.id, last.id)
	require.EqualValues(t, 1, r.Metrics.Opens)
	_, err = b.tracking.Record(ctx, tracking.Event{Type: tracking.TypeClick, DeliveryID: ids[1], LinkIdx: 0, At: sentAt[ids[1]].Add(time.Minute)})
	require.NoError(t, err)
	for {
		ev2, r := next(t, events2)
		require.Greater(t, ev2.id, ev.id)
		if r.Metrics.Clicks == 1 {
			break
		}
	}

	// Unknown campaigns answer 404 before any stream starts.
	code, _ := b.body(t, "/campaigns/999999/stream")
	require.Equal(t, http.StatusNotFound, code)
}
