package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

func cmdProbe(args []string, configPath string, e env) error {
	if len(args) == 0 {
		return usagef("probe: missing subcommand (list, set)")
	}
	switch args[0] {
	case "list":
		return probeList(args[1:], configPath, e)
	case "set":
		return probeSet(args[1:], configPath, e)
	}
	return usagef("probe: unknown subcommand %q (list, set)", args[0])
}

func probeList(args []string, configPath string, e env) error {
	c, err := newCommand("probe list", e)
	if err != nil {
		return err
	}
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
	list, err := catalog.ListProbes(ctx, pool)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCOPE\tINTERVAL\tRETENTION_DAYS\tENABLED\tDESCRIPTION")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%t\t%s\n", p.Name, p.Scope, p.Interval(), p.RetentionDays, p.Enabled, p.Description)
	}
	return tw.Flush()
}

func probeSet(args []string, configPath string, e env) error {
	c, err := newCommand("probe set", e)
	if err != nil {
		return err
	}
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return usagef("probe set: usage: probe set NAME [--interval D] [--retention-days N] [--enabled BOOL]")
	}
	name := args[0]
	interval := c.fs.String("interval", "", "collection interval, e.g. 30s, 5m (whole seconds)")
	retention := c.fs.Int("retention-days", 0, "days of data kept")
	enabled := c.fs.String("enabled", "", "true or false")
	if err := c.parse(args[1:], configPath, true); err != nil {
		return err
	}
	var ch catalog.ProbeChange
	if *interval != "" {
		d, err := time.ParseDuration(*interval)
		if err != nil || d < time.Second || d%time.Second != 0 {
			return usagef("probe set: --interval must be a whole number of seconds, at least 1s (e.g. 5s, 5m)")
		}
		n := int(d / time.Second)
		ch.IntervalSeconds = &n
	}
	if *retention != 0 {
		if *retention < 1 {
			return usagef("probe set: --retention-days must be positive")
		}
		ch.RetentionDays = retention
	}
	if *enabled != "" {
		b, err := strconv.ParseBool(*enabled)
		if err != nil {
			return usagef("probe set: --enabled must be true or false")
		}
		ch.Enabled = &b
	}
	if ch == (catalog.ProbeChange{}) {
		return usagef("probe set: nothing to change (give --interval, --retention-days or --enabled)")
	}
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = access.Audited(ctx, pool, cliActor(), "probe.set", map[string]any{"fields": flagsGiven(c)},
		func(tx pgx.Tx) (string, error) { return "probe:" + name, catalog.SetProbe(ctx, tx, name, ch) })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "probe %s updated\n", name)
	return nil
}
