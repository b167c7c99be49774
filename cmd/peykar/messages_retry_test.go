package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	ctx := context.Background()
	m := testMain(t, "PEYKAR_RESCUE_AFTER", "1h")
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "reset", "subject": "Reset {{ .Data.code }}",
		"html": `<p>Code {{ .Data.code }}</p>`})
	failFirstRecording(t, m, "P0001")

	code, body, _ := postMessage(t, m, marketer, "reset-1", map[string]any{"template_id": tpl,
		"to": "someone@example.com", "data": map[string]any{"code": "4711"}})
	require.Equal(t, http.StatusAccepted, code, body)
	id := messageID(t, body)

	var status string
	require.Eventually(t, func() bool {
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&status))
		return status != "queued"
	}, 2*time.Minute, 50*time.Millisecond, "the retry sends the message without waiting for its claim to be stale")
	require.Equal(t, "sent", status)

	var failed int64
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT last_value FROM fail_once`).Scan(&failed))
	require.GreaterOrEqual(t, failed, int64(2), "the first recording failed, a later one went through")
	var attempts, emails, sent int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT d.attempts FROM messages g JOIN deliveries d ON d.id = g.delivery_id
		WHERE g.id = $1`, id).Scan(&attempts))
	require.Equal(t, 2, attempts, "claimed by the failed attempt, then by its retry")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE subject = 'Reset 4711'`).Scan(&emails))
	require.Equal(t, 2, emails, "the failed attempt's email, then the retry's")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM rollup_totals r
		JOIN messages g ON g.campaign_id = r.campaign_id WHERE g.id = $1 AND r.metric = 'sent'`, id).Scan(&sent))
	require.Equal(t, 1, sent, "counted once")
}

// failFirstRecording makes the database refuse the first recording of a
// message's outcome with the error code given. nextval is not rolled back
// with the failing transaction, so only the first recording fails.
func failFirstRecording(t *testing.T, m *Main, code string) {
	t.Helper()
	_, err := m.pool.Exec(context.Background(), `CREATE SEQUENCE fail_once;
		CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.status <> 'queued' AND nextval('fail_once') = 1 THEN
				RAISE EXCEPTION 'injected: the outcome cannot be recorded' USING ERRCODE = '`+code+`';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_once BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION fail_once();`)
	require.NoError(t, err)
}

// TestMessageOutcomeRecordedAgainAfterADeadlock: the database rolls the
// first recording of a message's outcome back as a serialization failure
// (what a deadlock with the API's inserts looks like to the writer). The
// group is recorded again at once, in the same attempt: one email, one
// attempt, the message sent.
func TestMessageOutcomeRecordedAgainAfterADeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := testMain(t)
	admin, marketer := testToken(t, m, auth.RoleAdmin), testToken(t, m, auth.RoleMarketer)
	tpl := createTemplate(t, m, admin, map[string]any{"name": "reset", "subject": "Reset {{ .Data.code }}",
		"html": `<p>Code {{ .Data.code }}</p>`})
	failFirstRecording(t, m, "40001")

	code, body, _ := postMessage(t, m, marketer, "reset-2", map[string]any{"template_id": tpl,
		"to": "someone@example.com", "data": map[string]any{"code": "4712"}})
	require.Equal(t, http.StatusAccepted, code, body)
	id := messageID(t, body)
	var status string
	require.Eventually(t, func() bool {
		require.NoError(t, m.pool.QueryRow(ctx, `SELECT status FROM messages WHERE id = $1`, id).Scan(&status))
		return status != "queued"
	}, 2*time.Minute, 50*time.Millisecond)
	require.Equal(t, "sent", status)
	var failed int64
	var attempts, emails int
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT last_value FROM fail_once`).Scan(&failed))
	require.GreaterOrEqual(t, failed, int64(2), "the first recording failed, a later one went through")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT d.attempts FROM messages g JOIN deliveries d ON d.id = g.delivery_id
		WHERE g.id = $1`, id).Scan(&attempts))
	require.Equal(t, 1, attempts, "recorded again within the attempt")
	require.NoError(t, m.pool.QueryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE subject = 'Reset 4712'`).Scan(&emails))
	require.Equal(t, 1, emails, "sent once")
}
