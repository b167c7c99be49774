package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/demo"
	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/internal/outbox"
)

// demoOptions are the flags of `peykar demo`.
type demoOptions struct {
	Force    bool
	Contacts int
	Duration time.Duration
}

// parseDemoFlags reads `peykar demo [--force] [--contacts N] [--duration D]`.
func parseDemoFlags(args []string, stderr io.Writer) (demoOptions, error) {
	o := demoOptions{}
	fset := flag.NewFlagSet("peykar demo", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.BoolVar(&o.Force, "force", false, "run even though the database already holds contacts or campaigns")
	fset.IntVar(&o.Contacts, "contacts", 10000, "size of the sample audience (1 to 200000)")
	fset.DurationVar(&o.Duration, "duration", 2*time.Minute, "how long the simulated recipients act (5s to 1h)")
	if err := fset.Parse(args); err != nil {
		return o, errUsage
	}
	switch {
	case fset.NArg() > 0:
		fmt.Fprintf(stderr, "peykar demo takes no arguments, got %q\n", fset.Args())
		return o, errUsage
	case o.Contacts < 1 || o.Contacts > 200000:
		fmt.Fprintf(stderr, "peykar demo: --contacts %d is out of range (1 to 200000)\n", o.Contacts)
		return o, errUsage
	case o.Duration < 5*time.Second || o.Duration > time.Hour:
		fmt.Fprintf(stderr, "peykar demo: --duration %s is out of range (5s to 1h)\n", o.Duration)
		return o, errUsage
	}
	return o, nil
}

// DemoCommand runs `peykar demo`: it starts the server like serve, loads the
// demo, plays recipients for the duration and keeps serving until ctx is
// done. It returns the exit code.
func (m *Main) DemoCommand(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parseDemoFlags(args, stderr)
	if err != nil {
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "peykar:", err)
		_ = m.Close()
		return 1
	}
	_, err = m.Demo(ctx, o)
	switch {
	case err != nil && ctx.Err() != nil: // Ctrl-C during the demo: a normal stop
		fmt.Fprintln(m.Stdout, "Stopped.")
	case err != nil:
		var refused *errs.Error
		if errors.As(err, &refused) && refused.Code == errs.Conflict {
			fmt.Fprintln(stderr, "peykar demo: refused:", refused.Message)
		} else {
			fmt.Fprintln(stderr, "peykar demo:", err)
		}
		_ = m.Close()
		return 1
	default:
		fmt.Fprintln(m.Stdout, "The demo data stays; Peykar keeps serving. Press Ctrl-C to stop.")
		<-ctx.Done()
	}
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "peykar: shutdown:", err)
		return 1
	}
	return 0
}

// Demo loads the demo into the running server's database (refusing a
// non-empty one unless o.Force), launches its campaign and plays recipients
// for o.Duration, telling the person watching where to look.
func (m *Main) Demo(ctx context.Context, o demoOptions) (*demo.Demo, error) {
	if !o.Force {
		if err := demo.Empty(ctx, m.pool); err != nil {
			return nil, err
		}
	}
	if m.outbox == nil {
		return nil, fmt.Errorf("the demo sends to the embedded SMTP catch-all and reads the messages back: unset SMTP_URL to run it")
	}
	run := ""
	if o.Force {
		run = strconv.FormatInt(time.Now().Unix()%1e6, 36) + "."
	}
	fmt.Fprintf(m.Stdout, "Loading the demo: %d contacts, then a campaign with follow-up rules and goals…\n", o.Contacts)
	d, err := demo.Setup(ctx, demo.Config{
		Pool: m.pool, URL: m.URL(), Outbox: outbox.Store{Pool: m.pool},
		Contacts: o.Contacts, Duration: o.Duration, Run: run,
		Logger: m.Logger, Out: m.Stdout,
	})
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(m.Config.BaseURL, "/")
	fmt.Fprintf(m.Stdout, `
Open the admin UI and watch it fill:
  the live report (sends, opens and clicks human and total, links, goals)
      %[1]s/admin/campaigns/%[2]d
  the caught messages (Persian, right to left; the English offer; the resend)
      %[1]s/admin/outbox
  the jobs (launch, sends, follow-up rules)
      %[1]s/admin/jobs
  how often each follow-up rule fired
      %[1]s/api/v1/campaigns/%[2]d/rules
  the API reference
      %[1]s/admin/api
Simulating recipients for %[3]s (opens, clicks, scanners, unsubscribes, purchases)…
`, base, d.CampaignID, o.Duration)
	stats, err := d.Simulate(ctx)
	if err != nil {
		return d, err
	}
	fmt.Fprintf(m.Stdout, "Simulation done: %s.\n", stats)
	return d, nil
}
