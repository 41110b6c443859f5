package retention

import (
	"context"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/partition"
	"github.com/pgcollector/pgcollector/internal/store"
)

// ddlGrace is added to the lock timeout as the client-side deadline of one
// DROP or CREATE: the statements are quick once they hold their locks, and
// a half-open connection must not hang the run.
const ddlGrace = 30 * time.Second

// run does one retention pass: it drops the expired partitions of every
// probe row and creates this and next week's partitions of every enabled
// probe. It fails only when it cannot read what to do (the datastore is
// unreachable); a partition that cannot be dropped or created is recorded
// in the run's error and the pass goes on. progress is called between
// probes, to keep the tick from being redelivered during a long pass.
func (s *Stage) run(ctx context.Context, progress func()) (store.RetentionRun, error) {
	now := s.now().UTC()
	run := store.RetentionRun{StartedAt: now}
	// Every row, disabled probes included: a probe switched off still has
	// history to expire, and each probe's own retention_days applies.
	rows, err := catalog.ListProbes(ctx, s.pool)
	if err != nil {
		return run, err
	}
	tables, err := store.MetricsPartitions(ctx, s.pool)
	if err != nil {
		return run, err
	}
	var errs []string
	for _, p := range rows {
		names, ok := tables[p.Name]
		if !ok {
			// A probe row without a table (a newer build's catalogue
			// seeded it): nothing stored, nothing to create here.
			continue
		}
		for _, name := range expired(p.Name, names, p.RetentionDays, now) {
			dctx, cancel := context.WithTimeout(ctx, s.cfg.LockTimeout+ddlGrace)
			dropped, err := store.DropPartition(dctx, s.pool, name, s.cfg.LockTimeout)
			cancel()
			switch {
			case err != nil:
				errs = append(errs, err.Error())
			case dropped:
				run.Dropped = append(run.Dropped, store.Schema+"."+name)
			}
		}
		if p.Enabled {
			for _, week := range upkeepWeeks(now) {
				ectx, cancel := context.WithTimeout(ctx, s.cfg.LockTimeout+ddlGrace)
				if err := store.EnsurePartition(ectx, s.pool, p.Name, week); err != nil {
					errs = append(errs, err.Error())
				}
				cancel()
			}
		}
		progress()
	}
	run.Error = strings.Join(errs, "; ")
	run.FinishedAt = s.now().UTC()
	if run.FinishedAt.Before(run.StartedAt) {
		run.FinishedAt = run.StartedAt // a clock stepped back mid-run
	}
	return run, nil
}

// expired returns those of names that are weekly partitions of probe (as
// partition.Parse decides; anything else is not ours to drop) and whose
// upper bound is at or before now minus retentionDays days, oldest first
// when names are sorted. The partition holding now and later ones are
// never returned, whatever the retention, nor anything when retentionDays
// is not positive.
func expired(probe string, names []string, retentionDays int, now time.Time) []string {
	if retentionDays < 1 {
		return nil
	}
	// In UTC a day is always 24h; AddDate cannot overflow the way a
	// Duration of a huge retention_days would.
	cutoff := now.UTC().AddDate(0, 0, -retentionDays)
	current, _ := partition.Week(now)
	var out []string
	for _, name := range names {
		from, ok := partition.Parse(probe, name)
		if !ok {
			continue
		}
		to := from.Add(partition.Length)
		if to.After(cutoff) || to.After(current) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// upkeepWeeks are instants in the weeks whose partitions a run ensures:
// this week (normally the sink's job already) and next week, so that next
// week's exists days before Monday 00:00 UTC with daily ticks.
func upkeepWeeks(now time.Time) []time.Time {
	return []time.Time{now, now.Add(partition.Length)}
}
