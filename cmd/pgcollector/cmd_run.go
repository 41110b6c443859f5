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
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/internal/obs"
	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/retention"
	"github.com/pgcollector/pgcollector/sink"
	"github.com/pgcollector/pgcollector/stages/fetcher"
	"github.com/pgcollector/pgcollector/stages/scheduler"
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
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cache.Run(gctx) })
	metrics := obs.NewMetrics(version)
	if c.s.Core.HTTPAddr != "" {
		hs, err := obs.NewServer(c.s.Core.HTTPAddr, metrics, pool, b, log.With("component", "http"))
		if err != nil {
			return err
		}
		g.Go(func() error { return hs.Run(gctx) })
	}
	g.Go(func() error { return obs.NewBufferWatch(b.JS(), log.With("component", "buffer"), 0).Run(gctx) })
	migrated := make(chan struct{})
	g.Go(func() error { return migrateUntilDone(gctx, pool, log, migrated) })

	if stages["scheduler"] {
		s, err := scheduler.New(c.s.Scheduler, cache, b, log.With("stage", "scheduler"))
		if err != nil {
			return err
		}
		s.SetObserver(metrics)
		g.Go(func() error { return s.Run(gctx) })
		tk, err := scheduler.NewTicker(c.s.Ticker, pool, b, log.With("stage", "scheduler", "timer", scheduler.RetentionTimer))
		if err != nil {
			return err
		}
		g.Go(func() error { return tk.Run(gctx) })
	}
	if stages["fetcher"] {
		mp, err := monpool.New(c.s.Pool, box, log.With("component", "monpool"))
		if err != nil {
			return err
		}
		f, err := fetcher.New(c.s.Fetcher, cache, mp, b, log.With("stage", "fetcher"))
		if err != nil {
			return err
		}
		f.SetObserver(metrics)
		g.Go(func() error { return mp.Run(gctx) })
		g.Go(func() error { return f.Run(gctx) })
	}
	if stages["sink"] {
		sk, err := sink.New(c.s.Sink, pool, b, log.With("stage", "sink"))
		if err != nil {
			return err
		}
		sk.SetObserver(metrics)
		g.Go(func() error {
			// The sink must not write before the metrics tables exist,
			// or every batch would look like poison.
			if !waitMigrated(gctx, migrated) {
				return nil
			}
			return sk.Run(gctx)
		})
	}
	if stages["retention"] {
		rt, err := retention.New(c.s.Retention, pool, b, log.With("stage", "retention"))
		if err != nil {
			return err
		}
		g.Go(func() error {
			if !waitMigrated(gctx, migrated) {
				return nil
			}
			return rt.Run(gctx)
		})
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
