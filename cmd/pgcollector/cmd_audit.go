package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
)

// cmdAudit prints the newest rows of the audit log: every change made
// through the API, the MCP endpoint or the CLI, with who made it.
func cmdAudit(args []string, configPath string, e env) error {
	c, err := newCommand("audit", e)
	if err != nil {
		return err
	}
	limit := c.fs.Int("limit", 50, "rows to print, newest first (1..10000)")
	asJSON := c.fs.Bool("json", false, "print JSON")
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	if *limit < 1 || *limit > 10000 {
		return usagef("audit: --limit must be 1..10000, got %d", *limit)
	}
	return withDatastore(c, func(ctx context.Context, pool *pgxpool.Pool) error {
		rows, err := access.ListAudit(ctx, pool, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			if rows == nil {
				rows = []access.AuditEntry{}
			}
			return printJSON(e.stdout, rows)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tACTOR\tACTION\tTARGET\tDETAILS")
		for _, r := range rows {
			details, _ := json.Marshal(r.Details)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.At.Format(time.RFC3339), r.Actor, r.Action, r.Target, details)
		}
		return tw.Flush()
	})
}
