package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
)

const userSubcommands = "add, list, disable"

// cmdUser manages the API's users. The CLI needs the datastore URL and
// the secret file, so whoever runs it is trusted like an admin; what it
// does is audited under the operating-system user's name.
func cmdUser(args []string, configPath string, e env) error {
	if len(args) == 0 {
		return usagef("user: missing subcommand (%s)", userSubcommands)
	}
	switch args[0] {
	case "add":
		return userAdd(args[1:], configPath, e)
	case "list":
		return userList(args[1:], configPath, e)
	case "disable":
		return userDisable(args[1:], configPath, e)
	}
	return usagef("user: unknown subcommand %q (%s)", args[0], userSubcommands)
}

// cliActor is how a CLI change appears in the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// oneName parses flags around exactly one positional argument.
func oneName(c *command, args []string, configPath, what string) (string, error) {
	return parseOne(c, args, configPath, what)
}

func userAdd(args []string, configPath string, e env) error {
	c, err := newCommand("user add", e)
	if err != nil {
		return err
	}
	admin := c.fs.Bool("admin", false, "the user sees and manages every connection and may change probes")
	name, err := oneName(c, args, configPath, "user name")
	if err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		if err := access.AddUser(ctx, pool, cliActor(), name, *admin); err != nil {
			return accessErr(c, err)
		}
		fmt.Fprintf(e.stdout, "user %s added (admin: %t); create a token with: pgcollector token create --user %s --name NAME\n",
			name, *admin, name)
		return nil
	})
}

func userList(args []string, configPath string, e env) error {
	c, err := newCommand("user list", e)
	if err != nil {
		return err
	}
	asJSON := c.fs.Bool("json", false, "print JSON")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		us, err := access.ListUsers(ctx, pool)
		if err != nil {
			return err
		}
		if *asJSON {
			if us == nil {
				us = []access.User{}
			}
			return printJSON(e.stdout, us)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tADMIN\tDISABLED\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%t\t%t\t%s\n", u.Username, u.IsAdmin, u.Disabled, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func userDisable(args []string, configPath string, e env) error {
	c, err := newCommand("user disable", e)
	if err != nil {
		return err
	}
	name, err := oneName(c, args, configPath, "user name")
	if err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		if err := access.DisableUser(ctx, pool, cliActor(), name); err != nil {
			return accessErr(c, err)
		}
		fmt.Fprintf(e.stdout, "user %s disabled: their tokens no longer work; their connections are still monitored\n", name)
		return nil
	})
}

// accessErr turns the access package's errors into CLI messages: a bad
// value is a usage error (exit 2), a missing or taken name is exit 1.
func accessErr(c *command, err error) error {
	var ve *access.ValidationError
	switch {
	case errors.As(err, &ve):
		return usagef("%s: %s", c.name, ve.Error())
	case errors.Is(err, access.ErrNotFound), errors.Is(err, access.ErrConflict):
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return err
}
