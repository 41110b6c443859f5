package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/secret"
)

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// connFlags are the settings of a connection as flags, shared by add and
// update (which applies only the flags given).
type connFlags struct {
	c  catalog.Connection
	pw passwordFlags
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.c.Name, "name", "", "unique name of the monitored server")
	fs.StringVar(&f.c.Host, "host", "", "host name or address (verify-full checks the certificate against it)")
	fs.StringVar(&f.c.Hostaddr, "hostaddr", "", "IP address to connect to instead of resolving --host")
	fs.IntVar(&f.c.Port, "port", 5432, "port")
	fs.StringVar(&f.c.Database, "database", "postgres", "maintenance database to connect to")
	fs.StringVar(&f.c.Username, "username", "", "role to connect as")
	fs.StringVar(&f.c.SSLMode, "sslmode", "prefer", strings.Join(sslModes, ", "))
	fs.StringVar(&f.c.SSLRootCert, "sslrootcert", "", "CA certificate file that verifies the server (verify-ca, verify-full)")
	fs.StringVar(&f.c.SSLCert, "sslcert", "", "client certificate file (with --sslkey)")
	fs.StringVar(&f.c.SSLKey, "sslkey", "", "client key file (with --sslcert)")
	fs.StringVar(&f.c.OwnerUsername, "owner-username", "", "owner of the connection: a user name")
	fs.StringVar(&f.c.OwnerToken, "owner-token", "", "owner of the connection: an opaque token (never printed)")
	f.pw.register(fs)
}

// validateConnection checks a whole row as it will be stored.
func validateConnection(cmd string, c catalog.Connection) error {
	for flagName, v := range map[string]string{"--name": c.Name, "--host": c.Host, "--database": c.Database,
		"--username": c.Username} {
		if strings.TrimSpace(v) == "" {
			return usagef("%s: %s is required", cmd, flagName)
		}
	}
	switch {
	case strings.IndexFunc(c.Name, unicode.IsControl) >= 0 || strings.HasPrefix(c.Name, "-"):
		return usagef("%s: --name must not start with '-' or hold control characters", cmd)
	case c.Port < 1 || c.Port > 65535:
		return usagef("%s: --port must be 1..65535", cmd)
	case !oneOf(c.SSLMode, sslModes...):
		return usagef("%s: --sslmode %q is not one of %s", cmd, c.SSLMode, strings.Join(sslModes, ", "))
	case (c.SSLCert == "") != (c.SSLKey == ""):
		return usagef("%s: --sslcert and --sslkey go together", cmd)
	case c.OwnerUsername != "" && c.OwnerToken != "":
		return usagef("%s: give --owner-username or --owner-token, not both", cmd)
	case strings.IndexFunc(c.OwnerToken, unicode.IsSpace) >= 0:
		return usagef("%s: --owner-token must not contain spaces", cmd)
	}
	return nil
}

// connectionAdd stores a new monitored server. Exactly one owner is
// required, so that every new connection shows up in its owner's listing.
func connectionAdd(args []string, configPath string, e env) error {
	c, err := newCommand("connection add", e)
	if err != nil {
		return err
	}
	var f connFlags
	f.register(c.fs)
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	if c.fs.NArg() > 0 {
		return usagef("connection add: unexpected argument %q (every setting is a flag)", c.fs.Arg(0))
	}
	conn := f.c
	if err := validateConnection(c.name, conn); err != nil {
		return err
	}
	if conn.OwnerUsername == "" && conn.OwnerToken == "" {
		return usagef("connection add: an owner is required: --owner-username or --owner-token")
	}
	box, err := c.secretBox()
	if err != nil {
		return err
	}
	if conn.PasswordEncrypted, err = encryptPassword(c.name, &f.pw, e, box); err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		var id int64
		err := access.Audited(ctx, pool, cliActor(), "connection.create", map[string]any{"fields": flagsGiven(c)},
			func(tx pgx.Tx) (string, error) {
				var err error
				id, err = catalog.AddConnection(ctx, tx, conn)
				return access.ConnectionTarget(id), err
			})
		if err != nil {
			return storeError(c, conn.Name, err)
		}
		fmt.Fprintln(e.stdout, id)
		return nil
	})
}

// encryptPassword reads the password if one was given and returns its
// stored form, or "" when none was given.
func encryptPassword(cmd string, p *passwordFlags, e env, box *secret.Box) (string, error) {
	pw, err := p.read(cmd, e.stdin)
	if err != nil || pw == "" {
		return "", err
	}
	enc, err := box.Encrypt(pw)
	if err != nil {
		return "", fmt.Errorf("%s: encrypt password: %w", cmd, err)
	}
	return enc, nil
}

// connectionUpdate changes the given settings of a connection; the
// password is rotated with --password-stdin or --password-file. A new
// owner replaces the old one.
func connectionUpdate(args []string, configPath string, e env) error {
	c, err := newCommand("connection update", e)
	if err != nil {
		return err
	}
	var f connFlags
	f.register(c.fs)
	ref, err := parseRef(c, args, configPath)
	if err != nil {
		return err
	}
	u, err := f.update(c.fs)
	if err != nil {
		return err
	}
	if u.Empty() && !f.pw.given() {
		return usagef("connection update: nothing to change: give the settings to change as flags")
	}
	if f.pw.given() {
		box, err := c.secretBox()
		if err != nil {
			return err
		}
		enc, err := encryptPassword(c.name, &f.pw, e, box)
		if err != nil {
			return err
		}
		u.PasswordEncrypted = &enc
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		cur, err := findConnection(ctx, c, pool, ref)
		if err != nil {
			return err
		}
		if err := validateConnection(c.name, merge(cur, u)); err != nil {
			return err
		}
		err = access.Audited(ctx, pool, cliActor(), "connection.update", map[string]any{"fields": flagsGiven(c)},
			func(tx pgx.Tx) (string, error) {
				return access.ConnectionTarget(cur.ID), catalog.UpdateConnection(ctx, tx, cur.ID, u)
			})
		if err != nil {
			return storeError(c, deref(u.Name, cur.Name), err)
		}
		fmt.Fprintf(e.stdout, "updated connection %d (%s)\n", cur.ID, deref(u.Name, cur.Name))
		return nil
	})
}

// update turns the flags the user gave into a catalog update.
func (f *connFlags) update(fs *flag.FlagSet) (catalog.ConnectionUpdate, error) {
	var u catalog.ConnectionUpdate
	var err error
	fs.Visit(func(fl *flag.Flag) {
		v := &f.c
		switch fl.Name {
		case "name":
			u.Name = &v.Name
		case "host":
			u.Host = &v.Host
		case "hostaddr":
			u.Hostaddr = &v.Hostaddr
		case "port":
			u.Port = &v.Port
		case "database":
			u.Database = &v.Database
		case "username":
			u.Username = &v.Username
		case "sslmode":
			u.SSLMode = &v.SSLMode
		case "sslrootcert":
			u.SSLRootCert = &v.SSLRootCert
		case "sslcert":
			u.SSLCert = &v.SSLCert
		case "sslkey":
			u.SSLKey = &v.SSLKey
		case "owner-username", "owner-token":
			if u.Owner != nil {
				err = usagef("connection update: give --owner-username or --owner-token, not both")
			}
			u.Owner = &catalog.Owner{Username: v.OwnerUsername, Token: v.OwnerToken}
			if u.Owner.Username == "" && u.Owner.Token == "" {
				err = usagef("connection update: --%s must not be empty", fl.Name)
			}
		}
	})
	return u, err
}

// merge is the row as it will be after u, for validation.
func merge(c catalog.Connection, u catalog.ConnectionUpdate) catalog.Connection {
	c.Name, c.Host, c.Hostaddr = deref(u.Name, c.Name), deref(u.Host, c.Host), deref(u.Hostaddr, c.Hostaddr)
	c.Database, c.Username = deref(u.Database, c.Database), deref(u.Username, c.Username)
	c.SSLMode, c.SSLRootCert = deref(u.SSLMode, c.SSLMode), deref(u.SSLRootCert, c.SSLRootCert)
	c.SSLCert, c.SSLKey = deref(u.SSLCert, c.SSLCert), deref(u.SSLKey, c.SSLKey)
	c.Port = deref(u.Port, c.Port)
	if u.Owner != nil {
		c.OwnerUsername, c.OwnerToken = u.Owner.Username, u.Owner.Token
	}
	return c
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
