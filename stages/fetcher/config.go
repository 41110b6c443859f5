package fetcher

import (
	"strconv"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/probes"
)

// Config of the fetcher stage.
type Config struct {
	Workers             int           `envconfig:"FETCHER_WORKERS" default:"16" desc:"probe runs in flight per fetcher process"`
	ProbeDeadline       time.Duration `envconfig:"PROBE_DEADLINE" default:"30s" desc:"client-side deadline of one probe run on one database (a half-open TCP connection ignores statement_timeout)"`
	AvailabilityRecheck time.Duration `envconfig:"AVAILABILITY_RECHECK" default:"5m" desc:"how often an unavailable probe (missing view or extension) is checked again, and the columns of pg_stat_statements read again"`
	DatabaseListTTL     time.Duration `envconfig:"DATABASE_LIST_TTL" default:"60s" desc:"how long the list of a server's databases is reused"`
	ShutdownGrace       time.Duration `envconfig:"FETCHER_SHUTDOWN_GRACE" default:"10s" desc:"time in-flight probes get to finish on shutdown before their jobs are handed back"`
	StatementsTopN      int           `envconfig:"STATEMENTS_TOP_N" default:"1000" desc:"pg_stat_statements rows kept per run, by total time"`
	MaxObjects          int           `envconfig:"PROBE_MAX_OBJECTS" default:"0" desc:"objects (tables, indexes, sequences, functions) kept per run of a per-object probe, most active first; 0 keeps all"`
	MaxObjectsByProbe   []string      `envconfig:"PROBE_MAX_OBJECTS_BY_PROBE" default:"" desc:"per-probe caps overriding PGC_PROBE_MAX_OBJECTS, as probe=n pairs (n = 0 keeps all), e.g. pg_stat_all_indexes=2000"`
}

// Validate names the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Workers < 1 || c.Workers > 1024:
		return config.Errorf("PGC_FETCHER_WORKERS", "must be between 1 and 1024, got %d", c.Workers)
	case c.ProbeDeadline < time.Second:
		return config.Errorf("PGC_PROBE_DEADLINE", "must be at least 1s")
	case c.AvailabilityRecheck < time.Second:
		return config.Errorf("PGC_AVAILABILITY_RECHECK", "must be at least 1s")
	case c.StatementsTopN < 1:
		return config.Errorf("PGC_STATEMENTS_TOP_N", "must be positive")
	case c.MaxObjects < 0:
		return config.Errorf("PGC_PROBE_MAX_OBJECTS", "must be 0 (no cap) or positive, got %d", c.MaxObjects)
	}
	_, err := c.objectCaps()
	return err
}

// objectCaps is the cap of every probe that can be capped (one with an
// Activity), from PGC_PROBE_MAX_OBJECTS and its per-probe overrides; a
// probe without an entry is not capped.
func (c Config) objectCaps() (map[string]int, error) {
	caps := map[string]int{}
	for _, p := range probes.All {
		if p.Activity != "" && c.MaxObjects > 0 {
			caps[p.Name] = c.MaxObjects
		}
	}
	for _, item := range c.MaxObjectsByProbe {
		name, num, ok := strings.Cut(item, "=")
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if !ok || err != nil || n < 0 {
			return nil, config.Errorf("PGC_PROBE_MAX_OBJECTS_BY_PROBE", "want probe=n with n ≥ 0, got %q", item)
		}
		p, err := probes.ByName(name)
		if err != nil || p.Activity == "" {
			return nil, config.Errorf("PGC_PROBE_MAX_OBJECTS_BY_PROBE", "%q is not a per-object probe (%s)", name, strings.Join(cappable(), ", "))
		}
		if n == 0 {
			delete(caps, name)
		} else {
			caps[name] = n
		}
	}
	return caps, nil
}

// cappable names the probes a cap applies to.
func cappable() []string {
	var out []string
	for _, p := range probes.All {
		if p.Activity != "" {
			out = append(out, p.Name)
		}
	}
	return out
}
