package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/outbox"
)

// Config is what the demo needs: the running server and its database.
type Config struct {
	// Pool is the server's database.
	Pool *pgxpool.Pool
	// URL is the running server's own (loopback) address, e.g.
	// http://127.0.0.1:8080. The demo sends every request there, including
	// those for tracked links whose public base URL differs.
	URL string
	// Outbox reads the messages the embedded SMTP catch-all caught.
	Outbox outbox.Store
	// Contacts is the audience size. Default 10000.
	Contacts int
	// Duration is how long the simulator plays recipients. Default 2m. The
	// follow-up rules' waits scale with it: the click follow-up is sent
	// Duration/4 after its rule fires (tracking.VerdictDelay after the
	// click), the no-open resend Duration/2 after the first send (30s and
	// 60s by default).
	Duration time.Duration
	// Seed makes the audience and the behaviour reproducible. Default: the
	// current time.
	Seed uint64
	// Run goes into every generated address so that several runs against
	// one database (--force) do not collide. Default empty.
	Run string
	// Logger receives progress; Out (optional) a few lines for the person
	// watching.
	Logger *slog.Logger
	Out    io.Writer
}

func (c *Config) withDefaults() {
	if c.Contacts <= 0 {
		c.Contacts = 10000
	}
	if c.Duration <= 0 {
		c.Duration = 2 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
}

// Demo is a loaded and launched demo, ready to simulate.
type Demo struct {
	cfg        Config
	client     *client
	rng        *rand.Rand
	Audience   Audience
	CampaignID int64
	SegmentID  int64
	// TemplateIDs are the main, offer and resend templates.
	TemplateIDs [3]int64
	outboxFrom  int64 // the newest caught message before the launch
	tokenID     int64 // the demo's API token, revoked by Close
}

// Setup loads the audience, creates an API token (role marketer), the
// templates, the segment and the campaign through the API, and launches the
// campaign. It does not check that the database is empty: see Empty. The
// token lives until Simulate ends (or Close); on failure it is revoked at
// once.
func Setup(ctx context.Context, cfg Config) (d *Demo, err error) {
	cfg.withDefaults()
	d = &Demo{cfg: cfg, rng: newRand(cfg.Seed)}
	t, secret, err := auth.CreateToken(ctx, cfg.Pool, "peykar demo", auth.RoleMarketer, 0)
	if err != nil {
		return nil, fmt.Errorf("demo: create API token: %w", err)
	}
	d.tokenID = t.ID
	d.client = newClient(cfg.URL, secret)
	defer func() {
		if err != nil {
			err = errors.Join(err, d.Close(context.WithoutCancel(ctx)))
		}
	}()
	start := time.Now()
	d.Audience, err = LoadAudience(ctx, cfg.Pool, d.rng, cfg.Contacts, cfg.Run, start)
	if err != nil {
		return nil, err
	}
	cfg.Logger.InfoContext(ctx, "demo audience loaded", slog.Int("contacts", d.Audience.Contacts),
		slog.Int("purchases", d.Audience.Purchases), slog.Duration("took", time.Since(start)))
	fmt.Fprintf(cfg.Out, "Loaded %d contacts with %d past purchases.\n", d.Audience.Contacts, d.Audience.Purchases)
	d.recomputeAnalytics(ctx)
	if err := d.createCampaign(ctx); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// Messages caught before the launch (an earlier run's) are not ours.
	newest, err := cfg.Outbox.List(ctx, "", 0, 1)
	if err != nil {
		return nil, fmt.Errorf("demo: read the outbox: %w", err)
	}
	if len(newest) > 0 {
		d.outboxFrom = newest[0].ID
	}
	if err := d.client.api(ctx, "POST", "/campaigns/"+strconv.FormatInt(d.CampaignID, 10)+"/launch", nil, nil); err != nil {
		return nil, fmt.Errorf("demo: launch: %w", err)
	}
	fmt.Fprintf(cfg.Out, "Launched campaign %d to the embedded SMTP catch-all.\n", d.CampaignID)
	return d, nil
}

// Close revokes the demo's API token, so that no run leaves a live marketer
// token behind. Simulate calls it when it ends; calling it again is harmless.
func (d *Demo) Close(ctx context.Context) error {
	if d.tokenID == 0 {
		return nil
	}
	if err := auth.RevokeToken(ctx, d.cfg.Pool, d.tokenID); err != nil {
		return fmt.Errorf("demo: revoke its API token: %w", err)
	}
	d.tokenID = 0
	return nil
}

// newRand is the demo's random source for seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// recomputeAnalytics asks for RFM, scores, clusters and anomalies to be
// computed now (a background job), so the analytics pages show the demo's
// audience without waiting for their schedule. A failure only costs that
// head start, so it is logged, not returned.
func (d *Demo) recomputeAnalytics(ctx context.Context) {
	if err := d.client.api(ctx, "POST", "/analytics/recompute", nil, nil); err != nil {
		d.cfg.Logger.WarnContext(ctx, "demo: could not start the analytics recompute", slog.Any("error", err))
	}
}

type idOnly struct {
	ID int64 `json:"id"`
}

// createCampaign creates the templates, the segment and the campaign.
func (d *Demo) createCampaign(ctx context.Context) error {
	tpls := []map[string]string{
		{"name": "Nowruz sale (fa)", "subject": mainSubject, "html": mainHTML},
		{"name": "Pricing offer (en)", "subject": offerSubject, "html": offerHTML},
		{"name": "Nowruz reminder (fa)", "subject": resendSubject, "html": resendHTML},
	}
	for i, t := range tpls {
		var out idOnly
		if err := d.client.api(ctx, "POST", "/templates", t, &out); err != nil {
			return fmt.Errorf("template %q: %w", t["name"], err)
		}
		d.TemplateIDs[i] = out.ID
	}
	var seg idOnly
	if err := d.client.api(ctx, "POST", "/segments", map[string]string{
		"name": "Newsletter subscribers, not churned",
		"rule": `"newsletter" in contact.tags && contact.attributes.lifecycle_stage != "churned"`,
	}, &seg); err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	d.SegmentID = seg.ID
	var camp idOnly
	if err := d.client.api(ctx, "POST", "/campaigns", d.campaign(), &camp); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	d.CampaignID = camp.ID
	return nil
}

// campaign is the demo campaign's definition: a first send, a click
// follow-up for the pricing page, a resend to those who did not open, and
// two goals.
func (d *Demo) campaign() map[string]any {
	delay := (d.cfg.Duration / 4).Round(time.Second)
	after := (d.cfg.Duration / 2).Round(time.Second)
	return map[string]any{
		"name":       "Nowruz sale (demo)",
		"segment_id": d.SegmentID,
		"channel":    "email",
		"from":       map[string]string{"name": "Peykar Shop", "email": "news@shop.example"},
		"steps": []map[string]any{
			{"key": "main", "template_id": d.TemplateIDs[0]},
			{"key": "offer", "template_id": d.TemplateIDs[1]},
			{"key": "resend", "template_id": d.TemplateIDs[2]},
		},
		"rules": []map[string]any{
			{"name": "pricing click: send the offer", "on": "click", "step": "main",
				"when":    `event.link.url contains "/pricing"`,
				"actions": []map[string]any{{"type": "send", "step": "offer", "delay": delay.String()}}},
			{"name": "no open: resend with another subject", "on": "no_open", "step": "main", "after": after.String(),
				"actions": []map[string]any{{"type": "send", "step": "resend"}}},
		},
		"goals": []map[string]any{
			{"name": "engagement", "when": "ctr >= 0.05"},
			{"name": "sales", "when": "conversions >= 20"},
		},
		"throttle_per_second": 0,
		"settings":            map[string]any{"utm": map[string]string{"source": "peykar", "medium": "email", "campaign": "nowruz-demo"}},
	}
}
