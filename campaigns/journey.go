package campaigns

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/exprbudget"
)

// Entry types: how contacts come into a campaign.
const (
	// EntrySegment is a blast: the segment's members at launch (default).
	EntrySegment = "segment"
	// EntryEvent lets a contact in when a contact event of Entry.Event is
	// recorded (POST /events), while the campaign runs.
	EntryEvent = "event"
	// EntrySegmentEntry lets a contact in when they enter the campaign's
	// segment after launch.
	EntrySegmentEntry = "segment_entry"
)

// Re-entry policies (Campaign.Reentry); any other value is a Go duration:
// at most one entry per contact within it.
const (
	ReentryNever  = "never"
	ReentryAlways = "always"
)

// Entry is how contacts enter the campaign.
type Entry struct {
	// Type is EntrySegment (default), EntryEvent or EntrySegmentEntry.
	Type string `json:"type"`
	// Event is the contact event type an EntryEvent campaign listens on
	// (signup, purchase, cart_abandoned, any custom type).
	Event string `json:"event,omitempty"`
	// When is an expr over event and contact (EntryEnv); empty lets every
	// such event in.
	When string `json:"when,omitempty"`
	// Delay is how long after the entry the first step goes (Go
	// duration; exits are checked before it goes).
	Delay string `json:"delay,omitempty"`
}

// Exit is one condition that takes a contact out of a triggered campaign:
// exactly one of Event (a contact event, with an optional When over event
// and contact), SegmentExit (leaving the campaign's segment) or Goal (the
// named goal reached by the contact: see docs/journeys.md).
type Exit struct {
	Event       string `json:"event,omitempty"`
	When        string `json:"when,omitempty"`
	SegmentExit bool   `json:"segment_exit,omitempty"`
	Goal        string `json:"goal,omitempty"`
}

// Triggered reports whether contacts enter the campaign one by one while it
// runs (an event or segment entry) rather than at launch.
func (c *Campaign) Triggered() bool {
	return c.Entry.Type == EntryEvent || c.Entry.Type == EntrySegmentEntry
}

// EntryDelay parses Entry.Delay (0 when none).
func (c *Campaign) EntryDelay() time.Duration {
	d, _ := time.ParseDuration(c.Entry.Delay)
	return d
}

// ReentryPeriod is the re-entry policy as a period: 0 for never, -1 for
// always, otherwise the duration within which one entry is allowed.
func (c *Campaign) ReentryPeriod() time.Duration {
	switch c.Reentry {
	case ReentryNever, "":
		return 0
	case ReentryAlways:
		return -1
	}
	d, _ := time.ParseDuration(c.Reentry)
	return d
}

// EntryEnv is what an entry's or an event exit's `when` sees: the contact
// event and the contact.
type EntryEnv struct {
	Event   EntryEventEnv `expr:"event"`
	Contact RuleContact   `expr:"contact"`
	Now     time.Time     `expr:"now"`
	// DaysSince is days_since(t) at Now (-1 for a zero time).
	DaysSince func(time.Time) int `expr:"days_since"`
}

// EntryEventEnv is the contact event (a transaction posted to /events).
type EntryEventEnv struct {
	ID         int64          `expr:"id"`
	Type       string         `expr:"type"`
	Value      float64        `expr:"value"`
	Currency   string         `expr:"currency"`
	Attributes map[string]any `expr:"attributes"`
	At         time.Time      `expr:"at"`
}

func entryOptions() []expr.Option {
	return append([]expr.Option{
		expr.Env(EntryEnv{}),
		expr.AsBool(),
		expr.MaxNodes(maxRuleNodes),
	}, exprbudget.Options()...)
}

// CompiledWhen is an entry's or exit's compiled `when` (nil program:
// always true).
type CompiledWhen struct {
	Source  string
	program *vm.Program
}

// CompileEntryWhen compiles src over EntryEnv; field names it in the error
// (entry.when, exit[0].when), with the position of the mistake.
func CompileEntryWhen(field, src string) (CompiledWhen, error) {
	if strings.TrimSpace(src) == "" {
		return CompiledWhen{}, nil
	}
	p, err := compileExpr(src, entryOptions()...)
	if err != nil {
		return CompiledWhen{}, exprError(field, field, src, err)
	}
	return CompiledWhen{Source: src, program: p}, nil
}

// Matches evaluates the predicate under its evaluation budget. An
// operation on a missing value makes it false; any other run-time error is
// returned, never panicked.
func (w CompiledWhen) Matches(m *vm.VM, env *EntryEnv) (bool, error) {
	if w.program == nil {
		return true, nil
	}
	if env.DaysSince == nil {
		now := env.Now
		env.DaysSince = func(t time.Time) int {
			if t.IsZero() {
				return -1
			}
			return int(now.Sub(t).Hours() / 24)
		}
	}
	out, err := exprbudget.Run(m, w.program, env)
	if missingValue(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// eventName is a contact event type (as POST /events accepts it).
var eventName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

const eventNameRule = "must be a contact event type: 1–64 lower-case letters, digits, _ . or - (e.g. signup)"

// checkJourney fills the journey defaults and adds the mistakes of entry,
// reentry, exit and ends_at to p.
func (c *Campaign) checkJourney(p *problems) {
	if c.Entry.Type == "" {
		c.Entry.Type = EntrySegment
	}
	if c.Reentry == "" {
		c.Reentry = ReentryNever
	}
	if c.Exit == nil {
		c.Exit = []Exit{}
	}
	c.Entry.Event = strings.TrimSpace(c.Entry.Event)
	switch c.Entry.Type {
	case EntrySegment:
		if c.Entry.Event != "" || c.Entry.When != "" || c.Entry.Delay != "" {
			p.add(errs.Field("entry.type", "event, when and delay apply to triggered entries (type event or segment_entry), not to a segment blast"))
		}
		if len(c.Exit) > 0 {
			p.add(errs.Field("exit", "exit conditions apply to triggered campaigns (entry type event or segment_entry); in a segment blast use a rule's exit action"))
		}
		if c.EndsAt != nil {
			p.add(errs.Field("ends_at", "applies to triggered campaigns (entry type event or segment_entry)"))
		}
	case EntryEvent:
		if !eventName.MatchString(c.Entry.Event) {
			p.add(errs.Field("entry.event", "%s", eventNameRule))
		}
	case EntrySegmentEntry:
		if c.Entry.Event != "" {
			p.add(errs.Field("entry.event", "a segment_entry campaign is entered by joining segment_id, not by an event"))
		}
		if c.SegmentID == nil {
			p.add(errs.Field("segment_id", "a segment_entry campaign needs the segment its contacts enter"))
		}
	default:
		p.add(errs.Field("entry.type", "%q is not an entry type (segment, event, segment_entry)", c.Entry.Type))
	}
	if _, err := CompileEntryWhen("entry.when", c.Entry.When); err != nil {
		p.add(err)
	}
	if c.Entry.Delay != "" {
		if d, err := time.ParseDuration(c.Entry.Delay); err != nil || d < 0 {
			p.add(errs.Field("entry.delay", "must be a duration such as 1h"))
		}
	}
	if c.Reentry != ReentryNever && c.Reentry != ReentryAlways {
		if d, err := time.ParseDuration(c.Reentry); err != nil || d <= 0 {
			p.add(errs.Field("reentry", "must be \"never\", \"always\" or a positive duration such as 720h"))
		}
	}
	c.checkExits(p)
}

// checkExits adds the mistakes of the exit conditions to p.
func (c *Campaign) checkExits(p *problems) {
	goals := map[string]bool{}
	for _, g := range c.Goals {
		goals[strings.TrimSpace(g.Name)] = true
	}
	for i := range c.Exit {
		x := &c.Exit[i]
		f := fmt.Sprintf("exit[%d]", i)
		x.Event, x.Goal = strings.TrimSpace(x.Event), strings.TrimSpace(x.Goal)
		kinds := 0
		for _, set := range []bool{x.Event != "", x.SegmentExit, x.Goal != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			p.add(errs.Field(f, "needs exactly one of event, segment_exit or goal"))
			continue
		}
		switch {
		case x.Event != "":
			if !eventName.MatchString(x.Event) {
				p.add(errs.Field(f+".event", "%s", eventNameRule))
			}
			if _, err := CompileEntryWhen(f+".when", x.When); err != nil {
				p.add(err)
			}
		case x.When != "":
			p.add(errs.Field(f+".when", "applies to an event exit only"))
		case x.SegmentExit && c.SegmentID == nil:
			p.add(errs.Field(f+".segment_exit", "needs the campaign's segment_id: leaving it is the exit"))
		case x.Goal != "" && !goals[x.Goal]:
			p.add(errs.Field(f+".goal", "%q is not a goal of this campaign", x.Goal))
		}
	}
}

// checkEndsAt refuses a triggered campaign launched with ends_at already
// past.
func (c *Campaign) checkEndsAt(p *problems, now time.Time) {
	if c.EndsAt != nil && !c.EndsAt.After(now) {
		p.add(errs.Field("ends_at", "is in the past: a campaign launched now would take no entries"))
	}
}

// ListTriggered returns the running and paused campaigns that a contact
// event may concern (a triggered entry, or exit conditions), without their
// steps.
func ListTriggered(ctx context.Context, db DBTX) ([]Campaign, error) {
	rows, err := db.Query(ctx, query("list_triggered"))
	if err != nil {
		return nil, fmt.Errorf("list triggered campaigns: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("list triggered campaigns: %w", err)
	}
	return list, nil
}

// FinishEnded marks finished the running triggered campaigns whose ends_at
// is at or before now, and returns their ids. A finished campaign takes no
// entries; its entries in flight go on (follow-ups of a finished campaign
// are sent), and cancelling it skips them.
func FinishEnded(ctx context.Context, tx pgx.Tx, now time.Time) ([]int64, error) {
	rows, err := tx.Query(ctx, query("finish_ended"), now)
	if err != nil {
		return nil, fmt.Errorf("finish ended journeys: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("finish ended journeys: %w", err)
	}
	return ids, nil
}
