package main

import (
	"log/slog"
	"net"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/api"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/obs"
	"github.com/pgcollector/pgcollector/internal/secret"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
)

// mountAPI serves the REST API on the HTTP server when PGC_API_ENABLED
// is on. Tokens travel in clear without TLS, so serving the API on an
// address other than loopback without a certificate is refused.
func mountAPI(hs *obs.Server, s settings, pool *pgxpool.Pool, box *secret.Box, lim *tokenrate.Limiter,
	log *slog.Logger) error {
	if !s.API.Enabled {
		return nil
	}
	if err := refuseTokensInClear(s, "PGC_API_ENABLED"); err != nil {
		return err
	}
	svc, err := access.NewService(pool, box)
	if err != nil {
		return err
	}
	a, err := api.New(s.API, svc, lim, log.With("component", "api"))
	if err != nil {
		return err
	}
	hs.Mount(api.Prefix, a.Handler())
	hs.SetViewer(a.Viewer())
	return nil
}

// refuseTokensInClear is the rule of every endpoint that takes bearer
// tokens (the API, the MCP endpoint): HTTPS, loopback, or a TLS proxy in
// front that PGC_API_ALLOW_PLAIN_HTTP vouches for.
func refuseTokensInClear(s settings, setting string) error {
	if s.Core.HTTPTLSCert == "" && !loopback(s.Core.HTTPAddr) && !s.API.AllowPlainHTTP {
		return config.Errorf(setting, "bearer tokens would cross the network in clear: set PGC_HTTP_TLS_CERT and "+
			"PGC_HTTP_TLS_KEY, or bind PGC_HTTP_ADDR to loopback, or set PGC_API_ALLOW_PLAIN_HTTP=true behind a TLS proxy")
	}
	return nil
}

// loopback reports whether addr (host:port) listens only on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
