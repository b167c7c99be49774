package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/peykar/peykar/internal/auth"
)

// errUsage marks a command-line mistake (exit code 2); the message has
// already been printed.
var errUsage = errors.New("usage")

// Token runs `peykar token create --role ROLE --name NAME` against the
// configured database and prints the new API token alone on its last line.
func (m *Main) Token(ctx context.Context, args []string, stderr io.Writer) error {
	defer m.Close()
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: peykar token create --role admin|marketer|manager --name NAME")
		return errUsage
	}
	fset := flag.NewFlagSet("peykar token create", flag.ContinueOnError)
	fset.SetOutput(stderr)
	role := fset.String("role", "", "what the token may do: admin, marketer or manager")
	name := fset.String("name", "", "what the token is for (shown in the API tokens page)")
	if err := fset.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "peykar token create takes no arguments, got %q\n", fset.Args())
		return errUsage
	}
	r, err := auth.ParseRole("--role", *role)
	if err != nil {
		fmt.Fprintln(stderr, "peykar token create:", err)
		return errUsage
	}
	if *name == "" {
		fmt.Fprintln(stderr, "peykar token create: --name is required (say what the token is for)")
		return errUsage
	}
	if err := m.openDatabase(ctx); err != nil {
		return err
	}
	t, secret, err := auth.CreateToken(ctx, m.pool, *name, r, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Created API token %d %q with role %s. Send it as \"Authorization: Bearer <token>\"; it is shown only this once:\n", t.ID, t.Name, t.Role)
	fmt.Fprintln(m.Stdout, secret)
	return nil
}
