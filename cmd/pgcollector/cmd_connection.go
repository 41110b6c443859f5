package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

func cmdConnection(args []string, configPath string, e env) error {
	if len(args) == 0 {
		return usagef("connection: missing subcommand (add, list)")
	}
	switch args[0] {
	case "add":
		return connectionAdd(args[1:], configPath, e)
	case "list":
		return connectionList(args[1:], configPath, e)
	}
	return usagef("connection: unknown subcommand %q (add, list)", args[0])
}

func connectionAdd(args []string, configPath string, e env) error {
	c, err := newCommand("connection add", e)
	if err != nil {
		return err
	}
	var conn catalog.Connection
	fs := c.fs
	fs.StringVar(&conn.Name, "name", "", "unique name of the monitored server (required)")
	fs.StringVar(&conn.Host, "host", "", "host name or address (required)")
	fs.IntVar(&conn.Port, "port", 5432, "port")
	fs.StringVar(&conn.Database, "database", "postgres", "maintenance database to connect to")
	fs.StringVar(&conn.Username, "username", "", "role to connect as (required)")
	fs.StringVar(&conn.SSLMode, "sslmode", "prefer", "disable, allow, prefer, require, verify-ca or verify-full")
	fs.StringVar(&conn.SSLRootCert, "sslrootcert", "", "CA certificate file")
	fs.StringVar(&conn.SSLCert, "sslcert", "", "client certificate file")
	fs.StringVar(&conn.SSLKey, "sslkey", "", "client key file")
	fs.StringVar(&conn.OwnerUsername, "owner-username", "", "owner of the connection (a user name)")
	fs.StringVar(&conn.OwnerToken, "owner-token", "", "owner of the connection (a token)")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	for flagName, v := range map[string]string{"--name": conn.Name, "--host": conn.Host, "--username": conn.Username} {
		if strings.TrimSpace(v) == "" {
			return usagef("connection add: %s is required", flagName)
		}
	}
	if conn.Port < 1 || conn.Port > 65535 {
		return usagef("connection add: --port must be 1..65535")
	}
	if conn.OwnerUsername != "" && conn.OwnerToken != "" {
		return usagef("connection add: give --owner-username or --owner-token, not both")
	}
	if !oneOf(conn.SSLMode, "disable", "allow", "prefer", "require", "verify-ca", "verify-full") {
		return usagef("connection add: --sslmode %q is not a libpq sslmode", conn.SSLMode)
	}
	box, err := c.secretBox()
	if err != nil {
		return err
	}
	if *passwordStdin {
		pw, err := readPassword(e.stdin)
		if err != nil {
			return err
		}
		if conn.PasswordEncrypted, err = box.Encrypt(pw); err != nil {
			return err
		}
	}
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := catalog.AddConnection(ctx, pool, conn)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, id)
	return nil
}

// readPassword reads the whole of stdin and removes one trailing newline,
// as `echo pw |` and here-strings add one.
func readPassword(r io.Reader) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if pw == "" {
		return "", usagef("connection add: --password-stdin given but standard input is empty")
	}
	return pw, nil
}

func connectionList(args []string, configPath string, e env) error {
	c, err := newCommand("connection list", e)
	if err != nil {
		return err
	}
	var f catalog.Filter
	c.fs.StringVar(&f.OwnerUsername, "owner-username", "", "only this owner's connections")
	c.fs.StringVar(&f.OwnerToken, "owner-token", "", "only this owner's connections")
	asJSON := c.fs.Bool("json", false, "print JSON")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conns, err := catalog.ListConnections(ctx, pool, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return printConnectionsJSON(e.stdout, conns)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tHOST\tPORT\tDATABASE\tUSER\tSSLMODE\tMONITORED\tERROR")
	for _, x := range conns {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%t\t%s\n", x.ID, x.Name, x.Host, x.Port, x.Database,
			x.Username, x.SSLMode, x.IsMonitored, x.ConnectionError)
	}
	return tw.Flush()
}

// connectionView is what list prints: never the encrypted password, never
// the owner token.
type connectionView struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Host            string `json:"host"`
	Port            int    `json:"port"`
	Database        string `json:"database"`
	Username        string `json:"username"`
	SSLMode         string `json:"sslmode"`
	OwnerUsername   string `json:"owner_username,omitempty"`
	IsMonitored     bool   `json:"is_monitored"`
	ConnectionError string `json:"connection_error,omitempty"`
}

func printConnectionsJSON(w io.Writer, conns []catalog.Connection) error {
	out := make([]connectionView, 0, len(conns))
	for _, x := range conns {
		out = append(out, connectionView{x.ID, x.Name, x.Host, x.Port, x.Database, x.Username, x.SSLMode,
			x.OwnerUsername, x.IsMonitored, x.ConnectionError})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
