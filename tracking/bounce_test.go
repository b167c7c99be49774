package tracking

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

func sample(t *testing.T, name, verp string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "{{VERP}}", verp)
}

func TestParseReportSamples(t *testing.T) {
	t.Parallel()
	verp := testSigner().BounceAddress(12, "bounces.shop.example")
	for _, c := range []struct {
		file, typ, status, recipient string
	}{
		{"dsn_hard.eml", BounceHard, "5.1.1", "nobody@example.net"},
		{"dsn_soft.eml", BounceSoft, "4.2.2", "full@example.org"},
		{"arf_abuse.eml", BounceComplaint, "", "user@hotmail.example"},
		{"autoreply.eml", "", "", ""},
	} {
		rep, err := ParseReport(strings.NewReader(sample(t, c.file, verp)))
		require.NoError(t, err, c.file)
		require.Equal(t, c.typ, rep.Type, c.file)
		require.Equal(t, c.status, rep.Status, c.file)
		require.Equal(t, c.recipient, rep.Recipient, c.file)
	}
	rep, err := ParseReport(strings.NewReader(sample(t, "arf_abuse.eml", verp)))
	require.NoError(t, err)
	require.Contains(t, rep.ReturnPaths, verp)
}

func TestBounceListener(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	bs, err := b.svc.ListenBounces(ctx, "127.0.0.1:0", "bounces.shop.example")
	require.NoError(t, err)
	t.Cleanup(func() { _ = bs.Close(context.Background()) })
	camp := b.campaign(t, `[]`, `{}`)
	send := func(to, file, verp string) {
		t.Helper()
		c, err := smtp.Dial(bs.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Mail("", nil))
		require.NoError(t, c.Rcpt(to, nil))
		w, err := c.Data()
		require.NoError(t, err)
		_, err = w.Write([]byte(sample(t, file, verp)))
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, c.Quit())
	}
	status := func(contact, delivery int64) (string, string) {
		return scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, contact),
			scalar[string](t, b, `SELECT status FROM deliveries WHERE id = $1`, delivery)
	}

	soft, softContact := b.delivery(t, camp, time.Now().Add(-time.Hour))
	verp := b.signer.BounceAddress(soft, "bounces.shop.example")
	send(verp, "dsn_soft.eml", verp)
	cs, ds := status(softContact, soft)
	require.Equal(t, "active", cs, "a soft bounce does not suppress")
	require.Equal(t, "sent", ds)
	require.Equal(t, int64(1), b.rollup(t, camp, MetricSoftBounces, false))

	hard, hardContact := b.delivery(t, camp, time.Now().Add(-time.Hour))
	verp = b.signer.BounceAddress(hard, "bounces.shop.example")
	send(verp, "dsn_hard.eml", verp)
	send(verp, "dsn_hard.eml", verp) // counted once
	cs, ds = status(hardContact, hard)
	require.Equal(t, "bounced", cs)
	require.Equal(t, "bounced", ds)
	require.Equal(t, int64(1), b.count(t, `SELECT count(*) FROM deliveries WHERE id = $1 AND bounced_at IS NOT NULL`, hard))
	require.Equal(t, int64(1), b.rollup(t, camp, MetricBounces, false))
	require.Contains(t, scalar[string](t, b, `SELECT reason FROM events WHERE delivery_id = $1 AND type = 'bounce' LIMIT 1`, hard), "5.1.1")

	// A feedback loop report goes to a fixed address: the delivery is found
	// from the return path of the reported message.
	comp, compContact := b.delivery(t, camp, time.Now().Add(-time.Hour))
	send("fbl@shop.example", "arf_abuse.eml", b.signer.BounceAddress(comp, "bounces.shop.example"))
	cs, ds = status(compContact, comp)
	require.Equal(t, "complained", cs)
	require.Equal(t, "complained", ds)
	require.Equal(t, int64(1), b.rollup(t, camp, MetricComplaints, false))

	// Auto-replies and forged VERP addresses are accepted and dropped.
	send(verp, "autoreply.eml", verp)
	other := NewSigner(Keys{Current: []byte("not our key not our key not our key!")})
	forged := other.BounceAddress(soft, "bounces.shop.example")
	send(forged, "dsn_hard.eml", forged)
	cs, _ = status(softContact, soft)
	require.Equal(t, "active", cs)
	require.Equal(t, int64(4), b.count(t, `SELECT count(*) FROM events`))
}

func TestBounceWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	camp := b.campaign(t, `[]`, `{}`)
	d1, c1 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	_, c2 := b.delivery(t, camp, time.Now().Add(-time.Hour))
	email2 := scalar[string](t, b, `SELECT email FROM contacts WHERE id = $1`, c2)
	_, err := b.pool.Exec(context.Background(), `UPDATE contacts SET status = 'complained' WHERE id = $1`, c2)
	require.NoError(t, err)
	post := func(body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		res, err := b.client.Post(b.url+"/api/v1/webhooks/bounce", "application/json", bytes.NewReader(raw))
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, _ := post(map[string]any{"delivery_id": d1, "type": "hard", "reason": "550 5.1.1 user unknown"})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "bounced", scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, c1))

	code, _ = post(map[string]any{"email": strings.ToUpper(email2), "type": "hard"})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "complained", scalar[string](t, b, `SELECT status FROM contacts WHERE id = $1`, c2), "never downgraded")

	code, out := post(map[string]any{"delivery_id": d1, "type": "bogus"})
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "type", out["error"].(map[string]any)["field"])
	code, _ = post(map[string]any{"email": "nobody@nowhere.example", "type": "hard"})
	require.Equal(t, http.StatusNotFound, code)
	code, _ = post(map[string]any{"delivery_id": 987654, "type": "complaint"})
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, int64(2), b.rollup(t, camp, MetricBounces, false))
}
