package monpool

import (
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
)

// Config bounds what the collector may do to a monitored server.
type Config struct {
	MaxConns         int           `envconfig:"MONITORED_POOL_MAX_CONNS" default:"5" desc:"sessions per monitored server, all its databases together"`
	AcquireTimeout   time.Duration `envconfig:"MONITORED_ACQUIRE_TIMEOUT" default:"30s" desc:"longest wait for a session of a busy monitored server"`
	IdleTimeout      time.Duration `envconfig:"MONITORED_IDLE_TIMEOUT" default:"5m" desc:"idle monitored sessions are closed after this"`
	ConnectTimeout   time.Duration `envconfig:"MONITORED_CONNECT_TIMEOUT" default:"10s" desc:"deadline for opening a monitored session"`
	StatementTimeout time.Duration `envconfig:"PROBE_STATEMENT_TIMEOUT" default:"10s" desc:"statement_timeout of probe sessions (per-probe override in probes.statement_timeout_ms)"`
	LockTimeout      time.Duration `envconfig:"PROBE_LOCK_TIMEOUT" default:"1s" desc:"lock_timeout of probe sessions"`
	MaxBackoff       time.Duration `envconfig:"MONITORED_MAX_BACKOFF" default:"60s" desc:"longest pause before reconnecting to a server that failed"`
}

// Validate names the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxConns < 1 || c.MaxConns > 100:
		return config.Errorf("PGC_MONITORED_POOL_MAX_CONNS", "must be between 1 and 100, got %d", c.MaxConns)
	case c.AcquireTimeout <= 0:
		return config.Errorf("PGC_MONITORED_ACQUIRE_TIMEOUT", "must be positive")
	case c.ConnectTimeout <= 0:
		return config.Errorf("PGC_MONITORED_CONNECT_TIMEOUT", "must be positive")
	case c.StatementTimeout <= 0:
		return config.Errorf("PGC_PROBE_STATEMENT_TIMEOUT", "must be positive")
	case c.LockTimeout <= 0:
		return config.Errorf("PGC_PROBE_LOCK_TIMEOUT", "must be positive")
	}
	return nil
}
