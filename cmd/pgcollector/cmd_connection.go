package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

const connectionSubcommands = "add, list, show, update, remove, enable, disable"

func cmdConnection(args []string, configPath string, e env) error {
	if len(args) == 0 {
		return usagef("connection: missing subcommand (%s)", connectionSubcommands)
	}
	if err := refusePasswordFlag(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		return connectionAdd(args[1:], configPath, e)
	case "list":
		return connectionList(args[1:], configPath, e)
	case "show":
		return connectionShow(args[1:], configPath, e)
	case "update":
		return connectionUpdate(args[1:], configPath, e)
	case "remove":
		return connectionRemove(args[1:], configPath, e)
	case "enable":
		return connectionSetMonitored(args[1:], configPath, e, true)
	case "disable":
		return connectionSetMonitored(args[1:], configPath, e, false)
	}
	return usagef("connection: unknown subcommand %q (%s)", args[0], connectionSubcommands)
}

// refusePasswordFlag explains why --password does not exist instead of
// the flag package's bare "flag provided but not defined"; a password on
// the command line ends up in shell history and the process table. The
// value is never echoed.
func refusePasswordFlag(args []string) error {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "password" || name == "pw") {
			return usagef("connection: there is no --password flag: give the password with --password-stdin or --password-file")
		}
	}
	return nil
}

// passwordFlags are the two ways to give a password.
type passwordFlags struct {
	stdin bool
	file  string
}

func (p *passwordFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&p.stdin, "password-stdin", false, "read the password from standard input (one trailing newline is dropped)")
	fs.StringVar(&p.file, "password-file", "", "read the password from this file (one trailing newline is dropped)")
}

func (p *passwordFlags) given() bool { return p.stdin || p.file != "" }

// read returns the password, or "" when none was given.
func (p *passwordFlags) read(cmd string, stdin io.Reader) (string, error) {
	switch {
	case p.stdin && p.file != "":
		return "", usagef("%s: give --password-stdin or --password-file, not both", cmd)
	case p.stdin:
		return readPassword(cmd, "standard input", stdin)
	case p.file != "":
		f, err := os.Open(p.file)
		if err != nil {
			return "", usagef("%s: --password-file: %v", cmd, err)
		}
		defer f.Close()
		return readPassword(cmd, p.file, f)
	}
	return "", nil
}

// readPassword reads the whole input and removes one trailing newline,
// as `echo pw |`, here-strings and editors add one.
func readPassword(cmd, from string, r io.Reader) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%s: read password from %s: %w", cmd, from, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if pw == "" {
		return "", usagef("%s: the password read from %s is empty", cmd, from)
	}
	return pw, nil
}

// parseRef parses arguments holding one connection id or name among the
// flags, in any order (the flag package alone stops at the first
// non-flag), then loads the settings.
func parseRef(c *command, args []string, configPath string) (string, error) {
	return parseOne(c, args, configPath, "connection id or name")
}

// parseOne is parseRef for any one positional argument, named what.
func parseOne(c *command, args []string, configPath, what string) (string, error) {
	var flags, refs []string
	for rest := args; ; {
		if err := c.fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", usagef("%s: %v", c.name, err)
		}
		flags = append(flags, rest[:len(rest)-c.fs.NArg()]...)
		if c.fs.NArg() == 0 {
			break
		}
		refs = append(refs, c.fs.Arg(0))
		rest = c.fs.Args()[1:]
	}
	if len(refs) != 1 || strings.TrimSpace(refs[0]) == "" {
		return "", usagef("%s: give exactly one %s", c.name, what)
	}
	return refs[0], c.parse(flags, configPath, true)
}

// withDatastore runs fn with the datastore pool and a deadline.
func withDatastore(c *command, fn func(ctx context.Context, pool *pgxpool.Pool) error) error {
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return fn(ctx, pool)
}

// findConnection resolves an id or name; not found is the user's mistake.
func findConnection(ctx context.Context, c *command, pool *pgxpool.Pool, ref string) (catalog.Connection, error) {
	conn, err := catalog.FindConnection(ctx, pool, ref)
	if errors.Is(err, catalog.ErrNotFound) {
		return conn, fmt.Errorf("%s: no connection with id or name %q", c.name, ref)
	}
	return conn, err
}

// storeError words catalog errors for the command line.
func storeError(c *command, name string, err error) error {
	if errors.Is(err, catalog.ErrNameTaken) {
		return fmt.Errorf("%s: a connection named %q already exists", c.name, name)
	}
	return err
}

func connectionRemove(args []string, configPath string, e env) error {
	c, err := newCommand("connection remove", e)
	if err != nil {
		return err
	}
	ref, err := parseRef(c, args, configPath)
	if err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		conn, err := findConnection(ctx, c, pool, ref)
		if err != nil {
			return err
		}
		err = access.Audited(ctx, pool, cliActor(), "connection.delete", nil, func(tx pgx.Tx) (string, error) {
			return access.ConnectionTarget(conn.ID), catalog.RemoveConnection(ctx, tx, conn.ID)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed connection %d (%s)\n", conn.ID, conn.Name)
		return nil
	})
}

func connectionSetMonitored(args []string, configPath string, e env, on bool) error {
	verb := map[bool]string{true: "enable", false: "disable"}[on]
	c, err := newCommand("connection "+verb, e)
	if err != nil {
		return err
	}
	ref, err := parseRef(c, args, configPath)
	if err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		conn, err := findConnection(ctx, c, pool, ref)
		if err != nil {
			return err
		}
		err = access.Audited(ctx, pool, cliActor(), "connection."+verb, nil, func(tx pgx.Tx) (string, error) {
			return access.ConnectionTarget(conn.ID), catalog.UpdateConnection(ctx, tx, conn.ID, catalog.ConnectionUpdate{Monitored: &on})
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "connection %d (%s) %sd\n", conn.ID, conn.Name, verb)
		return nil
	})
}

// flagsGiven names the flags given on the command line, for the audit
// log: which fields changed, never their values.
func flagsGiven(c *command) []string {
	settings := map[string]bool{}
	for _, st := range c.loader.Settings() {
		settings[st.Flag()] = true
	}
	names := []string{}
	c.fs.Visit(func(f *flag.Flag) {
		switch {
		case settings[f.Name], f.Name == "config":
		case f.Name == "password-stdin" || f.Name == "password-file":
			names = append(names, "password")
		default:
			names = append(names, f.Name)
		}
	})
	return names
}
