package main

import (
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/api"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/retention"
	"github.com/pgcollector/pgcollector/sink"
	"github.com/pgcollector/pgcollector/stages/fetcher"
	"github.com/pgcollector/pgcollector/stages/scheduler"
)

// core holds the settings that belong to the process rather than a stage.
type core struct {
	DatastoreURL          string        `envconfig:"DATASTORE_URL" secret:"url" desc:"datastore connection URL (libpq PG* variables also honoured)"`
	SecretFile            string        `envconfig:"SECRET_FILE" desc:"file holding the server secret used to encrypt monitored passwords"`
	DatastorePoolMaxConns int           `envconfig:"DATASTORE_POOL_MAX_CONNS" default:"25" desc:"datastore pool size"`
	CatalogRefresh        time.Duration `envconfig:"CATALOG_REFRESH" default:"30s" desc:"how often connections and probe settings are re-read from the datastore"`
	HTTPAddr              string        `envconfig:"HTTP_ADDR" default:"127.0.0.1:9187" desc:"address of /metrics, /healthz and /readyz (empty disables)"`
	HTTPTLSCert           string        `envconfig:"HTTP_TLS_CERT" default:"" desc:"certificate file (PEM) for HTTPS on PGC_HTTP_ADDR; with PGC_HTTP_TLS_KEY"`
	HTTPTLSKey            string        `envconfig:"HTTP_TLS_KEY" default:"" desc:"private key file (PEM) of PGC_HTTP_TLS_CERT"`
	LogLevel              string        `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
	LogFormat             string        `envconfig:"LOG_FORMAT" default:"text" desc:"log format: text or json"`
	MemoryLimit           bus.ByteSize  `envconfig:"MEMORY_LIMIT" default:"0" desc:"soft memory limit of the process (the garbage collector works harder near it); 0: GOMEMLIMIT, else 90% of a cgroup limit, else none"`
}

// settings is every package's configuration, loaded together.
type settings struct {
	Core      core
	Bus       bus.Config
	Pool      monpool.Config
	Scheduler scheduler.Config
	Fetcher   fetcher.Config
	Sink      sink.Config
	Ticker    scheduler.TickerConfig
	Retention retention.Config
	API       api.Config
	MCP       mcpserver.Config
}

func (s *settings) targets() []any {
	return []any{&s.Core, &s.Bus, &s.Pool, &s.Scheduler, &s.Fetcher, &s.Sink, &s.Ticker, &s.Retention, &s.API, &s.MCP}
}

// validate checks what every command needs; needDatastore adds the
// settings without which nothing can reach the datastore.
func (s *settings) validate(needDatastore bool) error {
	// The sink's ledger must outlive the bus's replay window, or a replayed
	// batch would no longer be recognised as stored.
	s.Sink.ReplayWindow = s.Bus.ReplayWindow
	c := s.Core
	if needDatastore {
		if strings.TrimSpace(c.DatastoreURL) == "" {
			return config.Errorf("PGC_DATASTORE_URL", "required (e.g. postgres://user@host:5432/pgcollector)")
		}
		if strings.TrimSpace(c.SecretFile) == "" {
			return config.Errorf("PGC_SECRET_FILE", "required: a file holding the server secret")
		}
	}
	switch {
	case c.DatastorePoolMaxConns < 2 || c.DatastorePoolMaxConns > 1000:
		return config.Errorf("PGC_DATASTORE_POOL_MAX_CONNS", "must be between 2 and 1000, got %d", c.DatastorePoolMaxConns)
	case c.CatalogRefresh < time.Second || c.CatalogRefresh > time.Minute:
		return config.Errorf("PGC_CATALOG_REFRESH", "must be between 1s and 1m (changes must apply within a minute)")
	case !oneOf(strings.ToLower(c.LogLevel), "debug", "info", "warn", "error"):
		return config.Errorf("PGC_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	case !oneOf(strings.ToLower(c.LogFormat), "text", "json"):
		return config.Errorf("PGC_LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
	case s.MCP.Enabled && strings.TrimSpace(c.HTTPAddr) == "":
		return config.Errorf("PGC_MCP_ENABLED", "needs the HTTP server: set PGC_HTTP_ADDR")
	}
	for _, v := range []interface{ Validate() error }{s.Bus, s.Pool, s.Fetcher, s.Sink, s.Ticker, s.Retention, s.API} {
		if err := v.Validate(); err != nil {
			return asConfigError(err)
		}
	}
	return nil
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

// asConfigError turns a package's "PGC_X: reason" validation error into a
// config error naming PGC_X, keeping only its first line.
func asConfigError(err error) error {
	if config.IsConfigError(err) {
		return err
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	name, msg, ok := strings.Cut(line, ": ")
	if !ok || !strings.HasPrefix(name, config.Prefix+"_") {
		return config.Errorf("configuration", "%s", line)
	}
	return config.Errorf(name, "%s", msg)
}
