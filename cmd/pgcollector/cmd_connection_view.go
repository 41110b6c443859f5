package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

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
	if f.OwnerUsername != "" && f.OwnerToken != "" {
		return usagef("connection list: give --owner-username or --owner-token, not both")
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		conns, err := catalog.ListConnections(ctx, pool, f)
		if err != nil {
			return err
		}
		views := make([]connectionView, 0, len(conns))
		for _, x := range conns {
			views = append(views, viewOf(x))
		}
		if *asJSON {
			return printJSON(e.stdout, views)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tHOST\tPORT\tDATABASE\tUSER\tSSLMODE\tOWNER\tMONITORED\tERROR")
		for _, v := range views {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%t\t%s\n", v.ID, v.Name, v.Host, v.Port, v.Database,
				v.Username, v.SSLMode, v.owner(), v.IsMonitored, dash(clip(v.ConnectionError, 60)))
		}
		return tw.Flush()
	})
}

func connectionShow(args []string, configPath string, e env) error {
	c, err := newCommand("connection show", e)
	if err != nil {
		return err
	}
	asJSON := c.fs.Bool("json", false, "print JSON")
	ref, err := parseRef(c, args, configPath)
	if err != nil {
		return err
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		conn, err := findConnection(ctx, c, pool, ref)
		if err != nil {
			return err
		}
		v := viewOf(conn)
		if *asJSON {
			return printJSON(e.stdout, v)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, kv := range [][2]string{
			{"id", fmt.Sprint(v.ID)}, {"name", v.Name}, {"host", v.Host}, {"hostaddr", dash(v.Hostaddr)},
			{"port", fmt.Sprint(v.Port)}, {"database", v.Database}, {"username", v.Username},
			{"password", map[bool]string{true: "set (encrypted)", false: "none"}[v.HasPassword]},
			{"sslmode", v.SSLMode}, {"sslrootcert", dash(v.SSLRootCert)}, {"sslcert", dash(v.SSLCert)},
			{"sslkey", dash(v.SSLKey)}, {"owner", v.owner()}, {"monitored", fmt.Sprint(v.IsMonitored)},
			{"connection_error", dash(v.ConnectionError)},
			{"created_at", v.CreatedAt.Format(time.RFC3339)}, {"updated_at", v.UpdatedAt.Format(time.RFC3339)},
		} {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
		return tw.Flush()
	})
}

// connectionView is what list and show print. It has no field for the
// encrypted password or the owner token, so neither can be printed by
// accident: only whether they are set.
type connectionView struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	Host            string    `json:"host"`
	Hostaddr        string    `json:"hostaddr,omitempty"`
	Port            int       `json:"port"`
	Database        string    `json:"database"`
	Username        string    `json:"username"`
	HasPassword     bool      `json:"has_password"`
	SSLMode         string    `json:"sslmode"`
	SSLRootCert     string    `json:"sslrootcert,omitempty"`
	SSLCert         string    `json:"sslcert,omitempty"`
	SSLKey          string    `json:"sslkey,omitempty"`
	OwnerUsername   string    `json:"owner_username,omitempty"`
	HasOwnerToken   bool      `json:"has_owner_token"`
	IsMonitored     bool      `json:"is_monitored"`
	ConnectionError string    `json:"connection_error,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func viewOf(x catalog.Connection) connectionView {
	return connectionView{
		ID: x.ID, Name: x.Name, Host: x.Host, Hostaddr: x.Hostaddr, Port: x.Port, Database: x.Database,
		Username: x.Username, HasPassword: x.PasswordEncrypted != "", SSLMode: x.SSLMode,
		SSLRootCert: x.SSLRootCert, SSLCert: x.SSLCert, SSLKey: x.SSLKey, OwnerUsername: x.OwnerUsername,
		HasOwnerToken: x.OwnerToken != "", IsMonitored: x.IsMonitored, ConnectionError: x.ConnectionError,
		CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt,
	}
}

// owner is the owner column: the user name, "(token)" for a token owner
// (the token is a credential), or "-" for a connection without owner.
func (v connectionView) owner() string {
	switch {
	case v.OwnerUsername != "":
		return v.OwnerUsername
	case v.HasOwnerToken:
		return "(token)"
	}
	return "-"
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip keeps a table cell on one line and short.
func clip(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
