package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/peykar/peykar/internal/auth"
)

// User runs `peykar user reset-password --email EMAIL` against the
// configured database: it gives the user a new random password, ends their
// sessions, and prints the password alone on its last line. It is the way
// back in when no admin can log in.
func (m *Main) User(ctx context.Context, args []string, stderr io.Writer) error {
	defer m.Close()
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprintln(stderr, "usage: peykar user reset-password --email EMAIL")
		return errUsage
	}
	fset := flag.NewFlagSet("peykar user reset-password", flag.ContinueOnError)
	fset.SetOutput(stderr)
	email := fset.String("email", "", "the user's email")
	if err := fset.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "peykar user reset-password takes no arguments, got %q\n", fset.Args())
		return errUsage
	}
	if *email == "" {
		fmt.Fprintln(stderr, "peykar user reset-password: --email is required")
		return errUsage
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	u, pw, err := auth.ResetPassword(ctx, m.pool, *email)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Set a new password for %s (%s) and ended their sessions. Log in with it and change it on the account page; it is shown only this once:\n", u.Email, u.Role)
	fmt.Fprintln(m.Stdout, pw)
	return nil
}
