package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/engine"
	"github.com/peykar/peykar/internal/auth"
)

// TestMessageRetriedAtOnceAfterAFailedAttempt: the database refuses the
// first recording of a message's outcome (a trigger raises once). The
// attempt fails after it claimed the message's delivery; its retry, in
// the same process a few seconds later, must send the message then, not
// after the stale-claim wait (PEYKAR_RESCUE_AFTER, set to an hour here so
// that a claim left behind would keep the message queued past the test's
// deadline). The first attempt's email was accepted before its outcome
// failed to record, so the retry sends it again: two emails, one message
// counted as sent once.
func TestMessageRetriedAtOnceAfterAFailedAttempt(t *testing.T) {
	t.Parallel()
	got := sendWithFirstRecordingFailing(t, "P0001", "PEYKAR_RESCUE_AFTER", "1h")
	require.Equal(t, 2, got.attempts, "claimed by the failed attempt, then by its retry")
	require.Equal(t, 2, got.emails, "the failed attempt's email, then the retry's")
	require.Equal(t, 1, got.sent, "counted once")
}

// TestMessageOutcomeRecordedAgainAfterADeadlock: the database rolls the
// first recording of a message's outcome back as a serialization failure
// (what a deadlock with the API's inserts looks like to the writer). The
// group is recorded again at once, in the same attempt: one email, one
// attempt, the message sent.
func TestMessageOutcomeRecordedAgainAfterADeadlock(t *testing.T) {
	t.Parallel()
	got := sendWithFirstRecordingFailing(t, "40001")
	require.Equal(t, 1, got.attempts, "recorded again within the attempt")
	require.Equal(t, 1, got.emails, "sent once")
	require.Equal(t, 1, got.sent, "counted once")
}

// recordingFailure is what became of a message whose first outcome
// recording failed: its delivery's attempts, the emails the catch-all
// caught and the sends its campaign counted.
type recordingFailure struct {
	attempts, emails, sent int
}

// sendWithFirstRecordingFailing starts peykar (settings kv), makes the
// database refuse the first recording of a message's outcome with the
// error code given (a trigger; nextval is not rolled back with the
// failing transaction, so only the first recording fails), sends one
// message through the API and waits until it leaves queued, which it must
// do as sent.
func sendWithFirstRecordingFailing(t *testing.T, code string, kv ...string) recordingFailure {
	t.Helper()
	ctx := context.Background()
	m := testMain(t, kv...)
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "reset", "subject": "Reset {{ .Data.code }}",
		"html": `<p>Code {{ .Data.code }}</p>`})
	refuseRecording(t, m, `CREATE SEQUENCE fail_once;`, `nextval('fail_once') = 1`, code)

	status, body, _ := postMessage(t, m, marketer, "reset-1", map[string]any{"template_id": tpl,
		"to": "someone@example.com", "data": map[string]any{"code": "4711"}})
	require.Equal(t, http.StatusAccepted, status, body)
	id := messageID(t, body)
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&state))
		return state != "queued"
	}, 2*time.Minute, 50*time.Millisecond, "the message is sent without waiting for a claim to be stale")
	require.Equal(t, "sent", state)

	var failed int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT last_value FROM fail_once`).Scan(&failed))
	require.GreaterOrEqual(t, failed, int64(2), "the first recording failed, a later one went through")
	var got recordingFailure
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT d.attempts FROM messages g JOIN deliveries d ON d.id = g.delivery_id
		WHERE g.id = $1`, id).Scan(&got.attempts))
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE subject = 'Reset 4711'`).Scan(&got.emails))
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollup_totals r
		JOIN messages g ON g.campaign_id = r.campaign_id WHERE g.id = $1 AND r.metric = 'sent'`, id).Scan(&got.sent))
	return got
}

// TestSweepResendsADiscardedMessage: a message job that ends without
// recording its message (here: the database refuses every recording, and
// the job is then marked discarded as if it had run out of attempts)
// leaves the message queued with no job to send it. The periodic sweep
// must hand it to a fresh job, which sends it once the database accepts
// the outcome again; a second sweep finds nothing more to do.
func TestSweepResendsADiscardedMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t, "PEYKAR_RESCUE_AFTER", "1h")
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "receipt", "subject": "Receipt {{ .Data.order }}",
		"html": `<p>Order {{ .Data.order }}</p>`})
	refuseRecording(t, m, `CREATE TABLE refuse_while (on_ boolean); INSERT INTO refuse_while VALUES (true);`,
		`EXISTS (SELECT 1 FROM refuse_while)`, "P0001")

	status, body, _ := postMessage(t, m, marketer, "receipt-1", map[string]any{"template_id": tpl,
		"to": "buyer@example.com", "data": map[string]any{"order": "A-17"}})
	require.Equal(t, http.StatusAccepted, status, body)
	id := messageID(t, body)
	var deliveryID int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT delivery_id FROM messages WHERE id = $1`, id).Scan(&deliveryID))

	// Its job, waiting for a retry after a failed attempt, runs out of
	// attempts (River would discard it after the last one).
	require.Eventually(t, func() bool {
		tag, err := m.pool.Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
			WHERE kind IN ('message', 'message_batch') AND state = 'retryable'
				AND (args @> jsonb_build_object('delivery_id', $1::bigint)
					OR args->'messages' @> jsonb_build_array(jsonb_build_object('delivery_id', $1::bigint)))`,
			deliveryID)
		require.NoError(t, err)
		return tag.RowsAffected() == 1
	}, 2*time.Minute, 50*time.Millisecond, "a failed attempt leaves the job retryable")
	var delivery string
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM deliveries WHERE id = $1`, deliveryID).Scan(&delivery))
	require.Equal(t, "queued", delivery, "the failed attempt released its claim")

	_, err := m.pool.Exec(ctx, `DELETE FROM refuse_while`)
	require.NoError(t, err)
	sweep := func() {
		t.Helper()
		res, err := m.river.Insert(ctx, engine.SweepArgs{}, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			var state string
			require.NoError(t, m.pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, res.Job.ID).Scan(&state))
			return state == "completed"
		}, 2*time.Minute, 50*time.Millisecond, "the sweep completes")
	}
	sweep()
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&state))
		return state != "queued"
	}, 2*time.Minute, 50*time.Millisecond, "the sweep's job sends the message")
	require.Equal(t, "sent", state)

	// A second sweep finds nothing: no new job, and the message was
	// emailed by the sweep's job alone (every earlier attempt's email was
	// refused its recording, so it counts the attempts that reached SMTP).
	sweep()
	var waiting int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('message', 'message_batch')
		AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&waiting))
	require.Zero(t, waiting, "no job left to send it again")
	var sent int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollup_totals r
		JOIN messages g ON g.campaign_id = r.campaign_id WHERE g.id = $1 AND r.metric = 'sent'`, id).Scan(&sent))
	require.Equal(t, 1, sent, "counted once")
}

// refuseRecording makes the database refuse the recording of a message's
// outcome with the error code given (a trigger on messages) whenever when,
// an SQL condition, holds; setup creates what when reads. A failing
// transaction does not roll back nextval, so `nextval(...) = 1` refuses once.
func refuseRecording(t *testing.T, m *Main, setup, when, code string) {
	t.Helper()
	_, err := m.pool.Exec(context.Background(), setup+`
		CREATE FUNCTION refuse_recording() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.status <> 'queued' AND `+when+` THEN
				RAISE EXCEPTION 'injected: the outcome cannot be recorded' USING ERRCODE = '`+code+`';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_recording BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION refuse_recording();`)
	require.NoError(t, err)
}
