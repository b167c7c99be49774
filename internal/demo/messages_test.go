package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/outbox"
)

func TestParseCaught(t *testing.T) {
	t.Parallel()
	m := outbox.Message{
		ID: 7, To: []string{"sara@example.com"}, ReceivedAt: time.Unix(100, 0),
		Subject: "سارا، " + markMain + " پیکارشاپ",
		Headers: map[string][]string{"List-Unsubscribe": {"<http://peykar.test/t/u/UNSUB>, <mailto:u@x>"}},
		HTML: `<p><a href="http://peykar.test/t/c/AAA" style="x">قیمت‌ها</a> <a href="http://peykar.test/t/c/BBB?x=1&amp;y=2">shop</a>
			<a href="http://peykar.test/t/u/UNSUB">لغو</a><a href="http://peykar.test/t/h/HONEY" style="display:none"></a>
			<img src="http://peykar.test/t/o/PIX.gif" width="1" height="1"></p>`,
	}
	c := parseCaught(m)
	require.Equal(t, caught{
		ID: 7, To: "sara@example.com", Step: stepMain, Received: time.Unix(100, 0),
		Pixel: "/t/o/PIX.gif", Links: []string{"/t/c/AAA", "/t/c/BBB?x=1&y=2"}, Unsub: "/t/u/UNSUB",
	}, c, "the honeypot is never a link to click")
	require.Equal(t, stepResend, stepOf(resendSubject))
	require.Equal(t, stepOffer, stepOf("Sara, your personal Nowruz offer"))
	require.Equal(t, "", stepOf("something else"))
}

func TestPlanTiming(t *testing.T) {
	t.Parallel()
	d := &Demo{cfg: Config{Duration: 2 * time.Minute}}
	d.cfg.withDefaults()
	d.rng = newRand(3)
	now := time.Now()
	deadline := now.Add(d.cfg.Duration)
	var opens, scans, early, late int
	for i := range 2000 {
		p := d.plan(outbox.Message{ID: int64(i), ReceivedAt: now}, stepMain, now, deadline)
		if !p.scanAt.IsZero() {
			scans++
			require.Less(t, p.scanAt.Sub(now), 5*time.Second, "scanners come within seconds")
		}
		if p.openAt.IsZero() {
			continue
		}
		opens++
		require.GreaterOrEqual(t, p.openAt.Sub(now), humanDelay, "people are never sooner than the machine rule")
		require.False(t, p.openAt.After(deadline))
		for _, at := range []time.Time{p.clickAt, p.convertAt, p.unsubAt} {
			require.True(t, at.IsZero() || (!at.Before(p.openAt) && !at.After(deadline)))
		}
		if p.openAt.Sub(now) < d.cfg.Duration/2 {
			early++
		} else {
			late++
		}
	}
	require.InDelta(t, 0.08*2000, scans, 60)
	require.Greater(t, opens, 600)
	require.Greater(t, early, 3*late, "more activity early")
}
