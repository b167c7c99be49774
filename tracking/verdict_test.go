package tracking

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/migrations/pgtest"
)

func TestVerdictAt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	require.Equal(t, at.Add(VerdictDelay), VerdictAt(TypeClick, at))
	require.GreaterOrEqual(t, VerdictDelay, HoneypotWindow, "a honeypot hit this late still reclassifies the click")
	require.GreaterOrEqual(t, VerdictDelay, BurstWindow)
	for _, typ := range []string{TypeOpen, TypeUnsubscribe, TypeConversion, TypeBounce, TypeComplaint} {
		require.Equal(t, at, VerdictAt(typ, at), "%s: never reclassified", typ)
	}
}

// A click's rule job is scheduled for when its verdict is final; an
// open's runs at once. StoredVerdict reads the verdict as it is by then:
// a honeypot hit within HoneypotWindow after the click turns it to machine.
func TestRuleJobsWaitForTheVerdict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	require.NoError(t, err)
	var mu sync.Mutex
	now := time.Now().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := setupPool(t, pool, func(c *Config) { c.River, c.Now = client, clock })
	camp := b.campaign(t, `[{"name":"c","on":"click","actions":[]},{"name":"o","on":"open","actions":[]}]`, `{}`, "https://a.example/")
	d, _ := b.delivery(t, camp, now.Add(-time.Hour))

	res, _ := b.get(t, b.signer.OpenURL(b.url, d), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = b.get(t, b.signer.ClickURL(b.url, d, 0, ""), browserUA)
	require.Equal(t, http.StatusFound, res.StatusCode)
	require.Equal(t, "available", scalar[string](t, b, `SELECT state::text FROM river_job WHERE args->>'type' = 'open'`))
	require.Equal(t, "scheduled", scalar[string](t, b, `SELECT state::text FROM river_job WHERE args->>'type' = 'click'`))
	require.True(t, now.Add(VerdictDelay).Equal(scalar[time.Time](t, b, `SELECT scheduled_at FROM river_job WHERE args->>'type' = 'click'`)))

	click := scalar[int64](t, b, `SELECT id FROM events WHERE type = 'click'`)
	v, err := StoredVerdict(ctx, pool, click)
	require.NoError(t, err)
	require.Equal(t, Verdict{}, v, "human when stored")

	mu.Lock()
	now = now.Add(HoneypotWindow)
	mu.Unlock()
	res, _ = b.get(t, b.signer.HoneypotURL(b.url, d), browserUA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	v, err = StoredVerdict(ctx, pool, click)
	require.NoError(t, err)
	require.Equal(t, Verdict{Machine: true, Reason: ReasonHoneypot}, v, "reclassified before its job runs")
	require.Equal(t, int64(2), b.count(t, `SELECT count(*) FROM river_job`), "the honeypot hit enqueues nothing")

	_, err = StoredVerdict(ctx, pool, click+1000)
	require.ErrorIs(t, err, ErrNotFound)
}
