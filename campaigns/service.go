package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns/segments"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/netguard"
	"github.com/peykar/peykar/templates"
)

// Runtime is what campaigns needs from the sending engine.
type Runtime interface {
	// LaunchTx enqueues c's launch (at c.ScheduledAt when that is in the
	// future) inside tx.
	LaunchTx(ctx context.Context, tx pgx.Tx, c Campaign) error
	// CancelTx gives up every delivery of the campaign not sent yet.
	CancelTx(ctx context.Context, tx pgx.Tx, campaignID int64) error
	// Progress counts the campaign's deliveries by state.
	Progress(ctx context.Context, campaignID int64) (Progress, error)
	// FollowUps counts the follow-ups the campaign's rules have scheduled
	// and not yet run.
	FollowUps(ctx context.Context, campaignID int64) (FollowUps, error)
}

// FollowUps are what a campaign's rules have scheduled and not yet run, in
// deliveries: Timers by timer rule (no_open, no_click, no_conversion), the
// deliveries whose check is still to come; Sends by rule and then step, the
// sends waiting out the rule's delay.
type FollowUps struct {
	Timers map[string]int64
	Sends  map[string]map[string]int64
}

// Progress is how far a campaign's sending has come.
type Progress struct {
	Total   int64 `json:"total"`   // deliveries created
	Queued  int64 `json:"queued"`  // waiting to be sent or being sent
	Sending int64 `json:"sending"` // reserved: always 0 (see Queued)
	Sent    int64 `json:"sent"`    // accepted by the mail server
	Failed  int64 `json:"failed"`  // given up after retries, or unrenderable
	// Bounced were refused for good at send time (5xx); AsyncBounced came
	// back later as DSNs or provider webhooks after being sent.
	Bounced      int64 `json:"bounced"`
	AsyncBounced int64 `json:"async_bounced"`
	Skipped      int64 `json:"skipped"`    // cancelled or no longer sendable
	Suppressed   int64 `json:"suppressed"` // matched the segment but suppressed: no delivery
	Remaining    int64 `json:"remaining"`  // queued + sending
	LaunchDone   bool  `json:"launch_done"`
	// Rate is messages per second over the last interval in which the
	// campaign sent (see docs/metrics.md), at most its throttle.
	Rate float64 `json:"rate"`
	// EstimatedFinish is when the queue should be empty at Rate; only
	// while the campaign runs and something is left.
	EstimatedFinish *time.Time `json:"estimated_finish,omitempty"`
	// Reasons say why deliveries failed or were skipped: the distinct
	// reasons among (at most) the first ReasonSample failed and skipped
	// deliveries, most frequent first.
	Reasons []ProgressReason `json:"reasons"`
	// Capped counts the skipped deliveries that the frequency cap skipped
	// (action skip, reason frequency_cap); they are among Skipped.
	Capped int64 `json:"capped"`
}

// ReasonSample bounds how many failed and skipped deliveries are read
// for Progress.Reasons, so a report's cost does not grow with them.
const ReasonSample = 1000

// ProgressReason is one reason deliveries failed or were skipped.
type ProgressReason struct {
	Status string `json:"status"` // failed or skipped
	Reason string `json:"reason"`
	Count  int64  `json:"count"` // among the sampled deliveries
}

// Service runs campaign definitions and their life cycle.
type Service struct {
	Pool    *pgxpool.Pool
	Runtime Runtime
	Logger  *slog.Logger
	Now     func() time.Time
	// WebhookPolicy decides which webhook URLs are accepted on save: an
	// address literal must be public or inside its Allow (the engine checks
	// every address it dials against the same decision).
	WebhookPolicy netguard.Policy
	// DefaultCurrency is the reporting currency of campaigns without
	// settings.currency (PEYKAR_CURRENCY); "" means campaigns.DefaultCurrency.
	DefaultCurrency string
	// PreSendChecks makes a launch hold every step's template to the
	// pre-send checks (templates.Checks): the product runs with it (cmd
	// sets it); packages testing other concerns leave it off.
	PreSendChecks bool
	// Audience loads contacts for the pre-send fields check at launch; nil
	// leaves that one check out (the others still run).
	Audience AudienceLoader
	// holdouts keeps each campaign's last holdout measure for a while
	// (report_holdout.go).
	holdouts holdoutMemo
	// Reads routes reports to a replica when one is close enough; nil
	// reads the primary (Pool).
	Reads Reads
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Create validates and stores a new draft campaign.
func (s *Service) Create(ctx context.Context, c *Campaign) error {
	if err := c.normalize(); err != nil {
		return err
	}
	if err := s.checkWebhookHosts(c); err != nil {
		return err
	}
	needWebhookSecret(c)
	if w := c.Settings.Webhook; w != nil {
		w.SecretSet = false // read-only, never stored
		if w.Secret == "" {
			w.Secret = NewWebhookSecret() // unsigned requests are never sent
		}
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error { return insert(ctx, tx, c) })
}

// Update replaces a campaign's definition. Draft campaigns can change
// everything; once launched (and after it finished, while its rules still
// fire), only the name, throttle, rules, goals and settings may change.
func (s *Service) Update(ctx context.Context, c *Campaign) error {
	if err := c.normalize(); err != nil {
		return err
	}
	if err := s.checkWebhookHosts(c); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		old, err := GetForUpdate(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if old.IsTransactional() {
			return errTransactional(old, "edited")
		}
		switch old.Status {
		case StatusDraft:
		case StatusScheduled, StatusRunning, StatusPaused, StatusFinished:
			if !sameAudience(old, *c) {
				return errs.New(errs.Conflict, "a %s campaign's segment, entry, channel, sender, steps and schedule cannot change; cancel it and create another", old.Status)
			}
			if err := keepHoldout(old, *c); err != nil {
				return err
			}
		default:
			return errs.New(errs.Conflict, "a %s campaign cannot change", old.Status)
		}
		c.Status, c.CreatedAt, c.LaunchedAt, c.FinishedAt = old.Status, old.CreatedAt, old.LaunchedAt, old.FinishedAt
		needWebhookSecret(c)
		if w := c.Settings.Webhook; w != nil {
			w.SecretSet = false // read-only, never stored
			switch {
			case w.Secret != "":
			case old.Settings.Webhook != nil && old.Settings.Webhook.Secret != "":
				w.Secret = old.Settings.Webhook.Secret // blank keeps the stored secret
			default:
				w.Secret = NewWebhookSecret()
			}
		}
		return update(ctx, tx, c)
	})
}

func sameAudience(a, b Campaign) bool {
	if (a.SegmentID == nil) != (b.SegmentID == nil) || (a.SegmentID != nil && *a.SegmentID != *b.SegmentID) {
		return false
	}
	if a.Entry.Type != b.Entry.Type || a.Entry.Event != b.Entry.Event {
		return false
	}
	if !sameTopics(a.TopicIDs, b.TopicIDs) {
		return false
	}
	if a.Channel != b.Channel || a.From != b.From || a.ReplyTo != b.ReplyTo || len(a.Steps) != len(b.Steps) {
		return false
	}
	for i := range a.Steps {
		if !sameStep(a.Steps[i], b.Steps[i]) {
			return false
		}
	}
	return (a.ScheduledAt == nil) == (b.ScheduledAt == nil) && (a.ScheduledAt == nil || a.ScheduledAt.Equal(*b.ScheduledAt)) &&
		sameABTest(a.ABTest, b.ABTest)
}

// Launch checks that the campaign can send (a sender address, a non-empty
// segment, steps whose templates compile), records the links to track and
// enqueues the launch, now or at scheduled_at.
func (s *Service) Launch(ctx context.Context, id int64) (Campaign, error) {
	return s.LaunchWith(ctx, id, LaunchOptions{})
}

// LaunchWith is Launch with options. With PreSendChecks every step's
// template must pass the pre-send checks (templates.Checks); all failures
// are returned together.
func (s *Service) LaunchWith(ctx context.Context, id int64, opts LaunchOptions) (Campaign, error) {
	var c Campaign
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = GetForUpdate(ctx, tx, id); err != nil {
			return err
		}
		if c.Status != StatusDraft {
			return errs.New(errs.Conflict, "cannot launch a %s campaign", c.Status)
		}
		if err := s.checkLaunchable(ctx, tx, c, opts); err != nil {
			return err
		}
		c.Status = StatusRunning
		if c.ScheduledAt != nil && c.ScheduledAt.After(s.now()) {
			c.Status = StatusScheduled
		}
		if err := setStatus(ctx, tx, id, c.Status); err != nil {
			return err
		}
		return s.Runtime.LaunchTx(ctx, tx, c)
	})
	if err != nil {
		return c, err
	}
	s.Logger.InfoContext(ctx, "campaign launched", slog.Int64("campaign_id", id), slog.String("status", c.Status))
	return Get(ctx, s.Pool, id)
}

// checkLaunchable reports everything that keeps c from sending, all at
// once (errs.All): the campaign's own gaps, then, when those are none, the
// templates' failed pre-send checks (email campaigns, when PreSendChecks is
// on); it records the links of its steps' templates.
func (s *Service) checkLaunchable(ctx context.Context, tx pgx.Tx, c Campaign, opts LaunchOptions) error {
	var p problems
	if c.Channel == ChannelEmail && c.From.Email == "" {
		p.add(errs.Field("from.email", "a campaign needs a sender address to launch"))
	}
	if len(c.Steps) == 0 {
		p.add(errs.Field("steps", "a campaign needs at least one step to launch"))
	}
	if c.Triggered() {
		c.checkEndsAt(&p, s.now())
	}
	rule, err := checkLaunchSegment(ctx, tx, c, &p)
	if err != nil {
		return err
	}
	for i, st := range c.Steps {
		if st.TemplateID == 0 {
			p.add(errs.Field(fmt.Sprintf("steps[%d].template_id", i), "step %q has no template yet", st.Key))
			continue
		}
		t, err := templates.Get(ctx, tx, st.TemplateID)
		if errs.Is(err, errs.NotFound) {
			p.add(errs.Field(fmt.Sprintf("steps[%d].template_id", i), "template %d does not exist", st.TemplateID))
			continue
		}
		if err != nil {
			return err
		}
		compiled, err := templates.Compile(t)
		if err != nil {
			p.add(errs.Field(fmt.Sprintf("steps[%d].template_id", i), "template %q is invalid: %v", t.Name, err))
			continue
		}
		links := compiled.Links()
		out := make([]Link, len(links))
		for j, l := range links {
			out[j] = Link{Idx: l.Idx, URL: l.URL, Name: l.Name}
		}
		if out, err = variantLinks(ctx, tx, i, st, out, &p); err != nil {
			return err
		}
		if err := SaveLinks(ctx, tx, c.ID, st.Key, out); err != nil {
			return err
		}
	}
	if len(p) == 0 && s.PreSendChecks && c.Channel == ChannelEmail {
		failed, err := s.checkTemplates(ctx, tx, c, rule, opts)
		if err != nil {
			return err
		}
		p = append(p, failed...)
	}
	return errs.Collect(p)
}

// checkLaunchSegment adds to p what is wrong with c's segment for a
// launch: none, gone, an invalid rule, or nobody to send to. The error is
// a failure to check.
func checkLaunchSegment(ctx context.Context, tx pgx.Tx, c Campaign, p *problems) (*segments.Compiled, error) {
	if c.SegmentID == nil && c.Entry.Type == EntryEvent && len(c.TopicIDs) == 0 {
		return nil, nil // an event journey needs no segment: anyone may enter
	}
	if c.SegmentID == nil && len(c.TopicIDs) > 0 {
		if c.Triggered() {
			// The topics' subscribers may join later: not empty-checked.
			rule, err := Audience(ctx, tx, c)
			return rule, err
		}
		return checkLaunchTopics(ctx, tx, c, p)
	}
	if c.SegmentID == nil {
		p.add(errs.Field("segment_id", "a campaign needs a segment to launch"))
		return nil, nil
	}
	seg, err := segments.GetSegment(ctx, tx, *c.SegmentID)
	if errs.Is(err, errs.NotFound) {
		p.add(errs.Field("segment_id", "segment %d does not exist", *c.SegmentID))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rule, err := segments.CompileSegment(seg.Rule)
	if err != nil {
		p.add(errs.Field("segment_id", "segment %q has an invalid rule: %v", seg.Name, err))
		return nil, nil
	}
	rule = rule.WithTopics(c.TopicIDs)
	if c.Triggered() {
		return rule, nil // contacts may join it later
	}
	empty, err := segmentEmpty(ctx, tx, rule)
	if err != nil {
		return nil, err
	}
	if empty && len(c.TopicIDs) > 0 {
		p.add(errs.Field("topic_ids", "segment %q has no contacts subscribed to the campaign's topics that can be sent to", seg.Name))
	} else if empty {
		p.add(errs.Field("segment_id", "segment %q has no contacts that can be sent to", seg.Name))
	}
	return rule, nil
}

// segmentEmpty walks the segment until it finds one sendable contact.
func segmentEmpty(ctx context.Context, db DBTX, rule *segments.Compiled) (bool, error) {
	var after int64
	for {
		page, err := segments.MatchPage(ctx, db, rule, after, 5000)
		if err != nil {
			return false, err
		}
		if len(page.IDs) > 0 {
			return false, nil
		}
		if page.Done {
			return true, nil
		}
		after = page.Last
	}
}

// Transition applies pause, resume or cancel.
func (s *Service) Transition(ctx context.Context, id int64, action string) (Campaign, error) {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		c, err := GetForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.IsTransactional() {
			return errTransactional(c, "paused, resumed or cancelled")
		}
		to, err := next(action, c.Status)
		if err != nil {
			return err
		}
		if c.Status == StatusFinished {
			// Stopping a finished campaign's rules: it keeps finished_at
			// (when its sends were done).
			if _, err := tx.Exec(ctx, query("set_status_only"), id, to); err != nil {
				return fmt.Errorf("set campaign %d status: %w", id, err)
			}
		} else if err := setStatus(ctx, tx, id, to); err != nil {
			return err
		}
		if to == StatusCancelled {
			return s.Runtime.CancelTx(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return Campaign{}, err
	}
	s.Logger.InfoContext(ctx, "campaign "+action, slog.Int64("campaign_id", id))
	return Get(ctx, s.Pool, id)
}
