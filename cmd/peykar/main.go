// Command peykar is the Peykar campaign engine: one binary that serves the
// admin UI, the API and the tracking endpoints and runs the workers.
//
//	peykar [flags] [serve]   run the server (the default)
//	peykar [flags] migrate   apply database migrations and exit
//	peykar [flags] import [--mode upsert|skip-existing] FILE.csv
//	                         import contacts from a CSV file
//	peykar [flags] import --events [--create-contacts] FILE.csv
//	                         import historical contact events from a CSV file
//	peykar [flags] token create --role ROLE --name NAME
//	                         create an API token and print it
//	peykar [flags] user reset-password --email EMAIL
//	                         give a user a new password and print it
//	peykar [flags] demo [--force] [--contacts N] [--duration D]
//	                         load a sample audience and campaign, simulate
//	                         recipients, then keep serving
//	peykar version           print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/peykar/peykar/internal/runtimetune"
)

func main() {
	runtimetune.Apply()
	os.Exit(runMain(os.Args[1:]))
}

// runMain runs until SIGINT or SIGTERM.
func runMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// Run parses args and runs the subcommand until ctx is done (serve) or the
// work ends; it returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, rest, err := LoadConfig(args, getenv, stderr)
	if err != nil {
		var ce *ConfigError
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ce):
			fmt.Fprintln(stderr, "peykar: invalid configuration:", err)
		}
		return 2
	}
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	m := NewMain(cfg, stdout, stderr)
	switch cmd {
	case "serve":
		if err := servePprof(ctx, getenv("PEYKAR_PPROF"), stderr); err != nil {
			fmt.Fprintln(stderr, "peykar:", err)
			return 2
		}
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "peykar:", err)
			_ = m.Close()
			return 1
		}
		<-ctx.Done()
		if err := m.Close(); err != nil {
			fmt.Fprintln(stderr, "peykar: shutdown:", err)
			return 1
		}
		return 0
	case "migrate":
		if len(rest) == 0 {
			err = m.Migrate(ctx)
		}
	case "token":
		err = m.Token(ctx, rest, stderr)
		rest = nil
		if errors.Is(err, errUsage) {
			return 2
		}
	case "user":
		err = m.User(ctx, rest, stderr)
		rest = nil
		if errors.Is(err, errUsage) {
			return 2
		}
	case "import":
		err = m.Import(ctx, rest, stderr)
		rest = nil
		if errors.Is(err, errImportUsage) {
			return 2
		}
	case "demo":
		return m.DemoCommand(ctx, rest, stderr)
	case "version":
		fmt.Fprintln(stdout, "peykar", Version())
		return 0
	default:
		fmt.Fprintf(stderr, "peykar: unknown command %q (commands: serve, migrate, import, token, user, demo, version)\n", cmd)
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "peykar: %s takes no arguments, got %q\n", cmd, rest)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "peykar:", err)
		return 1
	}
	return 0
}
