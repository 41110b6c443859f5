// Command demo is `make demo`: it starts a throwaway PostgreSQL that serves
// as both datastore and monitored server, registers it, runs the collector
// for a short while with every probe at a 5 s interval, prints what was
// stored per probe, and cleans up.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

func main() {
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func demo() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runFor := 40 * time.Second
	if v := os.Getenv("DEMO_SECONDS"); v != "" {
		if d, err := time.ParseDuration(v + "s"); err == nil {
			runFor = d
		}
	}
	tmp, err := os.MkdirTemp("", "pgcollector-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Println("== starting a throwaway PostgreSQL (datastore and monitored server)")
	pg, err := pgtest.StartCluster(ctx, pgtest.Options{Settings: map[string]string{
		"shared_preload_libraries": "pg_stat_statements", "track_functions": "all"}})
	if err != nil {
		return err
	}
	defer pg.Close()
	if err := e2e.CreateDatabase(ctx, pg, "pgcollector"); err != nil {
		return err
	}
	if err := e2e.MonitorRole(ctx, pg, "pgc_monitor", "demo-password", "app1", "app2"); err != nil {
		return err
	}
	if err := e2e.Exec(ctx, pg, "postgres", "CREATE EXTENSION pg_stat_statements"); err != nil {
		return err
	}
	secretFile, err := e2e.WriteSecret(tmp, "demo server secret")
	if err != nil {
		return err
	}
	bin, err := filepath.Abs("bin/pgcollector")
	if err != nil {
		return err
	}
	env := e2e.Env{Bin: bin, Vars: []string{
		"PGC_DATASTORE_URL=" + pg.DSN("pgcollector"),
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + filepath.Join(tmp, "data"),
		"PGC_HTTP_ADDR=",
	}}
	steps := [][]string{
		{"migrate"},
		{"connection", "add", "--name", "demo", "--host", pg.Host, "--port", fmt.Sprint(pg.Port),
			"--database", "postgres", "--username", "pgc_monitor", "--sslmode", "disable", "--owner-username", "demo", "--password-stdin"},
	}
	for _, p := range probes.All {
		steps = append(steps, []string{"probe", "set", p.Name, "--interval", "5s"})
	}
	for _, args := range steps {
		code, out, errOut := env.Run(ctx, "demo-password\n", args...)
		if code != 0 {
			return fmt.Errorf("pgcollector %v: exit %d: %s%s", args, code, out, errOut)
		}
		if args[0] != "probe" {
			fmt.Printf("$ pgcollector %s\n%s", args[0], out)
		}
	}
	fmt.Printf("== running the collector for %s (all probes every 5 s)\n", runFor)
	proc, err := env.Start(os.Stdout, "run")
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-time.After(runFor):
	}
	code, took := proc.Stop(syscall.SIGTERM, 30*time.Second)
	fmt.Printf("== collector stopped (exit %d in %s)\n", code, took.Round(time.Millisecond))
	return report(context.Background(), pg.DSN("pgcollector"))
}

func report(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tROWS\tSAMPLES\tNOTE")
	for _, p := range probes.All {
		var rows, samples int64
		q := fmt.Sprintf("SELECT count(*), count(DISTINCT collected_at) FROM %s", pgx.Identifier{"metrics", p.Name}.Sanitize())
		if err := conn.QueryRow(ctx, q).Scan(&rows, &samples); err != nil {
			return err
		}
		var note string
		_ = conn.QueryRow(ctx, `SELECT coalesce(string_agg(DISTINCT reason, '; '), '') FROM probe_availability
			WHERE probe = $1 AND NOT available`, p.Name).Scan(&note)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", p.Name, rows, samples, note)
	}
	return tw.Flush()
}
