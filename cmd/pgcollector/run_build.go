package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/api"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/internal/obs"
	"github.com/pgcollector/pgcollector/internal/secret"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
	"github.com/pgcollector/pgcollector/retention"
	"github.com/pgcollector/pgcollector/sink"
	"github.com/pgcollector/pgcollector/stages/fetcher"
	"github.com/pgcollector/pgcollector/stages/scheduler"
)

// runner is one long-lived part of the process: it runs until ctx ends.
type runner func(ctx context.Context) error

// buildRunners constructs every component the selected stages need and
// returns their Run functions without starting any of them, so that a
// constructor's error leaves nothing running behind it.
func buildRunners(s settings, stages map[string]bool, cache *catalog.Cache, pool *pgxpool.Pool,
	b *bus.Bus, box *secret.Box, log *slog.Logger) ([]runner, error) {
	metrics := obs.NewMetrics(version)
	migrated := make(chan struct{})
	runs := []runner{
		cache.Run,
		obs.NewBufferWatch(b.JS(), log.With("component", "buffer"), 0).Run,
		func(ctx context.Context) error { return migrateUntilDone(ctx, pool, log, migrated) },
	}
	if s.Core.HTTPAddr != "" {
		hs, err := obs.NewServer(s.Core.HTTPAddr, metrics, pool, b, log.With("component", "http"))
		if err != nil {
			return nil, err
		}
		if err := hs.UseTLS(s.Core.HTTPTLSCert, s.Core.HTTPTLSKey); err != nil {
			return nil, err
		}
		// One budget per token, whether it calls the API or /mcp.
		lim, err := api.NewLimiter(s.API)
		if err != nil {
			return nil, err
		}
		if err := mountAPI(hs, s, pool, box, lim, log); err != nil {
			return nil, err
		}
		if s.MCP.Enabled {
			if err := refuseTokensInClear(s, "PGC_MCP_ENABLED"); err != nil {
				return nil, err
			}
			if err := mountMCP(hs, pool, box, lim, log.With("component", "mcp")); err != nil {
				return nil, err
			}
		}
		runs = append(runs, hs.Run)
	}
	if stages["scheduler"] {
		sc, err := scheduler.New(s.Scheduler, cache, b, log.With("stage", "scheduler"))
		if err != nil {
			return nil, err
		}
		sc.SetObserver(metrics)
		tk, err := scheduler.NewTicker(s.Ticker, pool, b, log.With("stage", "scheduler", "timer", scheduler.RetentionTimer))
		if err != nil {
			return nil, err
		}
		runs = append(runs, sc.Run, tk.Run)
	}
	if stages["fetcher"] {
		mp, err := monpool.New(s.Pool, box, log.With("component", "monpool"))
		if err != nil {
			return nil, err
		}
		f, err := fetcher.New(s.Fetcher, cache, mp, b, log.With("stage", "fetcher"))
		if err != nil {
			return nil, err
		}
		f.SetObserver(metrics)
		runs = append(runs, mp.Run, f.Run)
	}
	if stages["sink"] {
		sk, err := sink.New(s.Sink, pool, b, log.With("stage", "sink"))
		if err != nil {
			return nil, err
		}
		sk.SetObserver(metrics)
		// The sink must not write before the metrics tables exist, or
		// every batch would look like poison.
		runs = append(runs, afterMigrations(migrated, sk.Run))
	}
	if stages["retention"] {
		rt, err := retention.New(s.Retention, pool, b, log.With("stage", "retention"))
		if err != nil {
			return nil, err
		}
		runs = append(runs, afterMigrations(migrated, rt.Run))
	}
	return runs, nil
}

// mountMCP puts the MCP endpoint on the HTTP server. Its tools act
// through access.Service, like the CLI, so they share its validation,
// isolation and audit log.
func mountMCP(hs *obs.Server, pool *pgxpool.Pool, box *secret.Box, lim *tokenrate.Limiter, log *slog.Logger) error {
	svc, err := access.NewService(pool, box)
	if err != nil {
		return err
	}
	ms, err := mcpserver.New(svc, lim, version, log)
	if err != nil {
		return err
	}
	hs.Mount(mcpserver.Path, ms.Handler())
	return nil
}

// afterMigrations delays run until the migrations are applied; it returns
// nil when ctx ends first.
func afterMigrations(migrated <-chan struct{}, run runner) runner {
	return func(ctx context.Context) error {
		if !waitMigrated(ctx, migrated) {
			return nil
		}
		return run(ctx)
	}
}
