package monpool

import (
	"time"

	"github.com/pgcollector/pgcollector/internal/config"
)

// Config bounds what the collector may do to a monitored server.
type Config struct {
	MaxConns       int           `envconfig:"MONITORED_POOL_MAX_CONNS" default:"5" desc:"sessions per monitored server, all its databases together"`
	AcquireTimeout time.Duration `envconfig:"MONITORED_ACQUIRE_TIMEOUT" default:"30s" desc:"longest wait for a session of a busy monitored server"`
	// Longer than the 300 s cycle of the database probes, with room for
	// lag: a session closed just before its database's next burst is
	// opened again at once, and a new backend costs the server more CPU
	// (fork, authentication, cold catalog caches) than a burst's probes.
	IdleTimeout time.Duration `envconfig:"MONITORED_IDLE_TIMEOUT" default:"15m" desc:"idle monitored sessions are closed after this"`
	// The database probes of a connection share one phase (see the
	// scheduler), so the sessions to its other databases are needed for
	// one burst per interval. Closing them after it saves the server a
	// backend per database but costs a new session per database and burst
	// (a fork, authentication and a cold catalog cache, tens of ms of
	// server CPU): off by default, on for servers short of connections.
	OtherIdleTimeout time.Duration `envconfig:"MONITORED_OTHER_DB_IDLE_TIMEOUT" default:"0" desc:"idle sessions to databases other than the connection's own are closed after this (0: as PGC_MONITORED_IDLE_TIMEOUT)"`
	PerDatabase      int           `envconfig:"MONITORED_SESSIONS_PER_DATABASE" default:"1" desc:"sessions one monitored database may have at once; further probes of it wait for one (0: only the per-server cap applies)"`
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
	case c.PerDatabase < 0:
		return config.Errorf("PGC_MONITORED_SESSIONS_PER_DATABASE", "must be 0 or more, got %d", c.PerDatabase)
	case c.OtherIdleTimeout < 0:
		return config.Errorf("PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT", "must not be negative")
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

// idleLimit is how long an idle session to database may stay open, for a
// connection whose own database is own.
func (c Config) idleLimit(database, own string) time.Duration {
	if database != own && c.OtherIdleTimeout > 0 {
		return min(c.OtherIdleTimeout, c.IdleTimeout)
	}
	return c.IdleTimeout
}

// reapEvery is how often idle sessions are looked at.
func (c Config) reapEvery() time.Duration {
	d := min(c.IdleTimeout/2, 30*time.Second)
	if c.OtherIdleTimeout > 0 {
		d = min(d, c.OtherIdleTimeout/2)
	}
	return max(d, time.Second)
}
