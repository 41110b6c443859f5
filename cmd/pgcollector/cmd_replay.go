package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/sink"
)

// progressEvery is how often replay reports progress on stderr.
const progressEvery = 2 * time.Second

// cmdReplay re-delivers batches retained in PGC_BATCHES to the datastore.
// It reads the stream itself (cmd_replay_read.go) and writes through the
// sink's write path (sink.Ingester), so the ingest ledger decides exactly
// as for a redelivery: what is stored already is skipped, unless --force,
// which replaces each replayed sample. It works next to a running
// collector and on a stopped one's data directory (cmd_replay_source.go).
func cmdReplay(args []string, configPath string, e env) error {
	c, err := newCommand("replay", e)
	if err != nil {
		return err
	}
	since := c.fs.Duration("since", 0, "replay batches collected within this long before now (required), e.g. 30m")
	until := c.fs.String("until", "", "replay batches collected up to this time: RFC 3339, or a duration before now")
	probe := c.fs.String("probe", "", "replay only this probe's batches")
	connRef := c.fs.String("connection", "", "replay only this connection's batches (id or name)")
	force := c.fs.Bool("force", false, "store batches again even if already ingested, replacing their samples")
	if err := c.parse(args, configPath, false); err != nil {
		return err
	}
	now := time.Now()
	f, err := replayRange(now, *since, *until)
	if err != nil {
		return err
	}
	if *probe != "" {
		if _, err := probes.ByName(*probe); err != nil {
			return usagef("replay: --probe: no probe named %q (see pgcollector probe list)", *probe)
		}
		f.probe = *probe
	}
	if c.s.Core.DatastoreURL == "" {
		return config.Errorf("PGC_DATASTORE_URL", "required (e.g. postgres://user@host:5432/pgcollector)")
	}
	log := newLogger(c.s.Core, e.stderr).With("command", "replay")
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.connection, err = replayConnection(ctx, c, pool, *connRef); err != nil {
		return err
	}
	in, err := sink.NewIngester(c.s.Sink, pool, log, *force)
	if err != nil {
		return err
	}

	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	js, closeStream, err := openBatchStream(ctx, c.s.Bus, quiet)
	if errors.Is(err, errNoBuffer) {
		fmt.Fprintf(e.stdout, "nothing to replay: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer closeStream()
	r, err := newReplayReader(ctx, js, f)
	if err != nil {
		return err
	}
	defer r.close(ctx, js)
	rp := &replay{in: in, r: r, force: *force, flushBytes: int(c.s.Sink.FlushBytes), out: e.stderr}
	err = rp.run(ctx)
	rp.report(e.stdout, "replayed")
	if err != nil {
		return fmt.Errorf("replay stopped; run it again to go on (nothing is stored twice): %w", err)
	}
	return nil
}

// replayRange reads --since and --until.
func replayRange(now time.Time, since time.Duration, until string) (replayFilter, error) {
	var f replayFilter
	if since <= 0 {
		return f, usagef("replay: --since is required: how far back to replay, e.g. --since 30m")
	}
	f.since = now.Add(-since)
	if until == "" {
		return f, nil
	}
	if d, err := time.ParseDuration(until); err == nil {
		f.until = now.Add(-d)
	} else if t, err := time.Parse(time.RFC3339Nano, until); err == nil {
		f.until = t
	} else {
		return f, usagef("replay: --until %q: give an RFC 3339 time (2026-01-02T15:04:05Z) or a duration before now", until)
	}
	if !f.until.After(f.since) {
		return f, usagef("replay: --until must be later than --since")
	}
	return f, nil
}

// replayConnection resolves --connection. A number is taken as an id
// as is, so batches of a connection removed since can still be replayed.
func replayConnection(ctx context.Context, c *command, pool *pgxpool.Pool, ref string) (int64, error) {
	if ref == "" {
		return 0, nil
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := catalog.FindConnection(ctx, pool, ref)
	if errors.Is(err, catalog.ErrNotFound) {
		return 0, usagef("replay: --connection: no connection with id or name %q", ref)
	}
	if err != nil {
		return 0, fmt.Errorf("replay: --connection %q: %w", ref, err)
	}
	return conn.ID, nil
}

// replay is one run: what it read and what the ingester did with it.
type replay struct {
	in         *sink.Ingester
	r          *replayReader
	force      bool
	flushBytes int
	out        io.Writer

	read, undecodable, filtered, incomplete uint64
	res                                     sink.IngestResult
	lastReport                              time.Time
}

// run reads every message in range and ingests the batches in chunks of
// about PGC_SINK_FLUSH_BYTES, each chunk one transaction.
func (rp *replay) run(ctx context.Context) error {
	var asm assembler
	var chunk []bus.Batch
	size := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		res, err := rp.in.Ingest(ctx, chunk)
		if err != nil {
			return err
		}
		rp.res.Add(res)
		chunk, size = nil, 0
		return nil
	}
	for ctx.Err() == nil {
		msgs, err := rp.r.next()
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			rp.read++
			b, err := bus.DecodeBatch(m.Data(), m.Headers())
			if err != nil {
				rp.undecodable++
				continue
			}
			if !rp.r.f.wants(b) {
				rp.filtered++
				continue
			}
			for _, whole := range asm.add(b) {
				chunk = append(chunk, whole)
				size += len(whole.Data)
			}
		}
		if size >= rp.flushBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		rp.progress()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Parts whose siblings are gone (trimmed, or outside the range) are
	// stored alone without --force; with it they would replace a whole
	// sample by a part of it, so they are left out.
	rest := asm.incomplete()
	if rp.force {
		rp.incomplete = uint64(len(rest))
	} else {
		chunk = append(chunk, rest...)
	}
	return flush()
}

// progress prints a line to stderr at most every progressEvery.
func (rp *replay) progress() {
	if time.Since(rp.lastReport) < progressEvery {
		return
	}
	rp.lastReport = time.Now()
	rp.report(rp.out, "replay:")
}

// report prints what the replay did so far.
func (rp *replay) report(w io.Writer, prefix string) {
	res := rp.res
	fmt.Fprintf(w, "%s %d/%d messages read, %d batches stored (%d rows), %d skipped (already ingested), "+
		"%d unchanged snapshots, %d status batches skipped, %d outside the filter, %d refused, %d undecodable",
		prefix, rp.read, rp.r.total, res.Batches, res.Rows, res.Duplicates, res.Unchanged, res.Statuses,
		rp.filtered, res.Poison, rp.undecodable)
	if rp.incomplete > 0 {
		fmt.Fprintf(w, ", %d parts of incomplete batches left out", rp.incomplete)
	}
	fmt.Fprintln(w)
}
