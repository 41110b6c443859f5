package fetcher

import (
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
)

// Config of the fetcher stage.
type Config struct {
	Workers             int           `envconfig:"FETCHER_WORKERS" default:"16" desc:"probe runs in flight per fetcher process"`
	ProbeDeadline       time.Duration `envconfig:"PROBE_DEADLINE" default:"30s" desc:"client-side deadline of one probe run on one database (a half-open TCP connection ignores statement_timeout)"`
	AvailabilityRecheck time.Duration `envconfig:"AVAILABILITY_RECHECK" default:"5m" desc:"how often an unavailable probe (missing view or extension) is checked again, and the columns of pg_stat_statements read again"`
	DatabaseListTTL     time.Duration `envconfig:"DATABASE_LIST_TTL" default:"60s" desc:"how long the list of a server's databases is reused"`
	ShutdownGrace       time.Duration `envconfig:"FETCHER_SHUTDOWN_GRACE" default:"10s" desc:"time in-flight probes get to finish on shutdown before their jobs are handed back"`
	StatementsTopN      int           `envconfig:"STATEMENTS_TOP_N" default:"1000" desc:"pg_stat_statements rows kept per run, by total time"`
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
	}
	return nil
}
