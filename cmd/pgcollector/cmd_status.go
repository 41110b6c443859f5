package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// statusTimeout bounds the whole status command, so a script calling it
// never hangs on an unreachable datastore or bus.
const statusTimeout = 30 * time.Second

// fillProblem is the share of the batch buffer's limit in unacknowledged
// batches at which status calls the collector unhealthy: above it, the
// buffer is close to making collection pause.
const fillProblem = 0.8

// statusReport is what `status --json` prints: the fleet and the backlog.
type statusReport struct {
	*obs.Fleet
	Backlog obs.BacklogReport `json:"backlog"`
}

// errUnhealthy makes status exit 1 after printing its report.
var errUnhealthy = errors.New("unhealthy")

// cmdStatus prints, per connection and probe, the last success, last
// error, lag versus interval and availability, and the buffer backlog. It
// exits 1 when something needs an operator, so scripts can use it.
func cmdStatus(args []string, configPath string, e env) error {
	c, err := newCommand("status", e)
	if err != nil {
		return err
	}
	asJSON := c.fs.Bool("json", false, "print the report as JSON")
	if err := c.parse(args, configPath, false); err != nil {
		return err
	}
	if c.s.Core.DatastoreURL == "" {
		return config.Errorf("PGC_DATASTORE_URL", "required (e.g. postgres://user@host:5432/pgcollector)")
	}
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()

	fleet, err := obs.LoadFleet(ctx, pool, time.Now())
	if err != nil {
		return fmt.Errorf("datastore: %w", err)
	}
	rep := statusReport{Fleet: fleet, Backlog: statusBacklog(ctx, c.s, e)}
	for _, b := range rep.Backlog.Streams {
		if b.Error == "" && b.Filled() >= fillProblem {
			rep.Problems = append(rep.Problems, fmt.Sprintf("buffer %s: %.0f%% of its limit holds unacknowledged batches "+
				"(%d): the sinks are behind or the datastore is down", b.Stream, 100*b.Filled(), b.Unsettled()))
		}
	}
	rep.Healthy = len(rep.Problems) == 0
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printStatus(e.stdout, rep, time.Now())
	}
	if !rep.Healthy {
		return fmt.Errorf("%w: %d problem(s)", errUnhealthy, len(rep.Problems))
	}
	return nil
}
