package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// statusBacklog finds the buffer backlog, in this order:
//
//  1. a running collector's /api/backlog at PGC_HTTP_ADDR: it has the bus
//     open already, and with the embedded server it is the only process
//     that may open the store;
//  2. with PGC_NATS_URL, the cluster itself, read-only (no declarations);
//  3. with the embedded server and no collector holding PGC_DATA_DIR, the
//     store itself, opened the way `run` opens it, under the data
//     directory's lock;
//  4. otherwise it is unknown, with the reason — never a made-up zero.
func statusBacklog(ctx context.Context, s settings, e env) obs.BacklogReport {
	if s.Core.HTTPAddr != "" {
		if rep, err := backlogFromHTTP(ctx, s.Core.HTTPAddr); err == nil {
			return rep
		}
	}
	var rep obs.BacklogReport
	var err error
	if s.Bus.Embedded() {
		rep, err = backlogFromStore(ctx, s.Bus, e)
	} else {
		rep, err = backlogFromCluster(ctx, s.Bus)
	}
	if err != nil {
		return obs.BacklogReport{Source: "unknown", Reason: err.Error(), Streams: []obs.Backlog{}}
	}
	return rep
}

func backlogFromHTTP(ctx context.Context, addr string) (obs.BacklogReport, error) {
	var rep obs.BacklogReport
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return rep, err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/api/backlog", nil)
	if err != nil {
		return rep, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("%s answered %s", req.URL, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return rep, fmt.Errorf("%s: %w", req.URL, err)
	}
	rep.Source = "collector"
	return rep, nil
}

func backlogFromCluster(ctx context.Context, cfg bus.Config) (obs.BacklogReport, error) {
	opts := []nats.Option{nats.Name("pgcollector-status"), nats.Timeout(5 * time.Second)}
	if cfg.NatsCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NatsCreds))
	}
	if cfg.NatsTLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.NatsTLSCA))
	}
	nc, err := nats.Connect(cfg.NatsURL, opts...)
	if err != nil {
		return obs.BacklogReport{}, fmt.Errorf("PGC_NATS_URL: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return obs.BacklogReport{}, fmt.Errorf("jetstream: %w", err)
	}
	return readBacklog(ctx, js)
}

func backlogFromStore(ctx context.Context, cfg bus.Config, e env) (obs.BacklogReport, error) {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "jetstream")); errors.Is(err, os.ErrNotExist) {
		// Nothing ever ran here: the buffer is empty, and creating a
		// store just to say so would leave files behind.
		return obs.BacklogReport{Source: "bus", Reason: "no buffer in PGC_DATA_DIR " + cfg.DataDir + " yet",
			Streams: []obs.Backlog{}}, nil
	}
	unlock, err := tryLockDataDir(cfg.DataDir)
	if errors.Is(err, errLocked) {
		return obs.BacklogReport{}, errors.New("a running collector holds PGC_DATA_DIR and its HTTP server " +
			"(PGC_HTTP_ADDR) did not answer")
	}
	if err != nil {
		return obs.BacklogReport{}, err
	}
	defer unlock()
	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bus.Open(ctx, cfg, quiet)
	if err != nil {
		return obs.BacklogReport{}, fmt.Errorf("open the embedded bus: %w", err)
	}
	defer b.Close()
	return readBacklog(ctx, b.JS())
}

func readBacklog(ctx context.Context, js jetstream.JetStream) (obs.BacklogReport, error) {
	streams, err := obs.ReadBacklog(ctx, js)
	if err != nil {
		return obs.BacklogReport{}, err
	}
	return obs.BacklogReport{Source: "bus", Streams: streams}, nil
}
