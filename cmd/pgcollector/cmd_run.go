package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

var allStages = []string{"scheduler", "fetcher", "sink", "retention"}

func parseStages(v string) (map[string]bool, error) {
	out := map[string]bool{}
	if v == "" || v == "all" {
		for _, s := range allStages {
			out[s] = true
		}
		return out, nil
	}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !oneOf(s, allStages...) {
			return nil, usagef("run: --stages: unknown stage %q (all, %s)", s, strings.Join(allStages, ", "))
		}
		out[s] = true
	}
	return out, nil
}

// cmdRun runs the selected stages until SIGINT or SIGTERM. The bus comes
// up first and goes down last, so in-flight messages are settled before
// the embedded server stops.
func cmdRun(args []string, configPath string, e env) error {
	c, err := newCommand("run", e)
	if err != nil {
		return err
	}
	stagesFlag := c.fs.String("stages", "all", "stages to run: all, or a comma list of "+strings.Join(allStages, ","))
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	stages, err := parseStages(*stagesFlag)
	if err != nil {
		return err
	}
	box, err := c.secretBox()
	if err != nil {
		return err
	}
	log := newLogger(c.s.Core, e.stderr)
	applyMemoryLimit(c.s.Core.MemoryLimit, log)
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.s.Bus.Embedded() {
		unlock, err := lockDataDir(ctx, c.s.Bus.DataDir, log)
		if err != nil {
			return err
		}
		defer unlock()
	}
	b, err := bus.Open(ctx, c.s.Bus, log)
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	defer b.Close()

	cache := catalog.NewCache(pool, log, c.s.Core.CatalogRefresh)
	cache.PersistTo(filepath.Join(c.s.Bus.DataDir, "catalog.json"))
	runs, err := buildRunners(c.s, stages, cache, pool, b, box, log)
	if err != nil {
		return err
	}
	// Every constructor has succeeded: only now does anything start, and
	// Wait returns once everything started has returned.
	g, gctx := errgroup.WithContext(ctx)
	for _, run := range runs {
		g.Go(func() error { return run(gctx) })
	}
	log.Info("pgcollector running", "version", version, "stages", *stagesFlag, "embedded_nats", b.Embedded())
	err = g.Wait()
	log.Info("pgcollector stopped")
	return err
}

// waitMigrated reports whether the migrations finished before ctx ended.
func waitMigrated(ctx context.Context, migrated <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case <-migrated:
		return true
	}
}

// migrateUntilDone applies migrations, retrying while the datastore is
// unreachable, so the collector can start during a datastore outage and
// collect into the buffer meanwhile.
func migrateUntilDone(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, done chan<- struct{}) error {
	delay := time.Second
	for failing := false; ; {
		mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := store.Migrate(mctx, pool, probes.All)
		cancel()
		if err == nil {
			close(done)
			if failing {
				log.Info("datastore migrations applied")
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if !failing {
			log.Error("datastore migrations failed; retrying", "err", err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}
