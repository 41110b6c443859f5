package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
)

const tokenSubcommands = "create, list, revoke"

func cmdToken(args []string, configPath string, e env) error {
	if len(args) == 0 {
		return usagef("token: missing subcommand (%s)", tokenSubcommands)
	}
	switch args[0] {
	case "create":
		return tokenCreate(args[1:], configPath, e)
	case "list":
		return tokenList(args[1:], configPath, e)
	case "revoke":
		return tokenRevoke(args[1:], configPath, e)
	}
	return usagef("token: unknown subcommand %q (%s)", args[0], tokenSubcommands)
}

func tokenCreate(args []string, configPath string, e env) error {
	c, err := newCommand("token create", e)
	if err != nil {
		return err
	}
	owner := c.fs.String("user", "", "the user the token acts as (required)")
	name := c.fs.String("name", "", "what the token is for, e.g. terraform (required)")
	expires := c.fs.Duration("expires", 0, "lifetime, e.g. 720h; 0 never expires")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	if c.fs.NArg() > 0 {
		return usagef("token create: unexpected argument %q", c.fs.Arg(0))
	}
	if *owner == "" {
		return usagef("token create: --user is required")
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		plain, t, err := access.CreateToken(ctx, pool, cliActor(), *owner, *name, *expires)
		if err != nil {
			return accessErr(c, err)
		}
		// The token goes to stdout alone, so `TOKEN=$(pgcollector token
		// create ...)` works; the rest is on stderr.
		fmt.Fprintln(e.stdout, plain)
		exp := "never"
		if t.ExpiresAt != nil {
			exp = t.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(e.stderr, "token %d for %s (%s), expires %s. It is shown only now: only its hash is stored.\n",
			t.ID, t.Owner, t.Name, exp)
		return nil
	})
}

func tokenList(args []string, configPath string, e env) error {
	c, err := newCommand("token list", e)
	if err != nil {
		return err
	}
	owner := c.fs.String("user", "", "only this user's tokens")
	asJSON := c.fs.Bool("json", false, "print JSON")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		ts, err := access.ListTokens(ctx, pool, *owner)
		if err != nil {
			return err
		}
		if *asJSON {
			if ts == nil {
				ts = []access.Token{}
			}
			return printJSON(e.stdout, ts)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Owner, t.Name, t.CreatedAt.Format(time.RFC3339),
				when(t.LastUsedAt), when(t.ExpiresAt), when(t.RevokedAt))
		}
		return tw.Flush()
	})
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func tokenRevoke(args []string, configPath string, e env) error {
	c, err := newCommand("token revoke", e)
	if err != nil {
		return err
	}
	ref, err := oneName(c, args, configPath, "token id")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id < 1 {
		return usagef("token revoke: %q is not a token id (see pgcollector token list)", ref)
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		if err := access.RevokeToken(ctx, pool, cliActor(), id); err != nil {
			return accessErr(c, err)
		}
		fmt.Fprintf(e.stdout, "token %d revoked\n", id)
		return nil
	})
}
