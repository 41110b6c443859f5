package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/stages/fetcher"
)

// SessionParams are the startup parameters of the collector's probe
// sessions (internal/monpool): the formatting settings make COPY text the
// same on every server. The baseline and the captured batches use them
// too, so that they read what the collector reads.
var SessionParams = map[string]string{
	"application_name":              "pgcollector-bench",
	"default_transaction_read_only": "on",
	"TimeZone":                      "UTC",
	"DateStyle":                     "ISO, MDY",
	"IntervalStyle":                 "postgres",
	"extra_float_digits":            "3",
	"bytea_output":                  "hex",
}

// ProbeSelect is the query the fetcher runs for a probe, without its COPY
// wrapper: database_name (for database-scoped probes) and the probe's
// columns. The fetcher writes connection_id and collected_at in front of
// each row itself, so that the statement text is the same on every run.
func ProbeSelect(p probes.Probe, version int) (string, error) {
	sql, ok := p.QueryFor(version)
	if !ok {
		return "", fmt.Errorf("%s: no query for server version %d", p.Name, version)
	}
	cols := "q.*"
	if p.Scope == probes.ScopeDatabase {
		cols = "current_database()::text, q.*"
	}
	return "SELECT " + cols + " FROM (" + probes.WithTopN(sql, 1000) + ") q", nil
}

// StoredColumnNames are the column names of metrics.<probe>, in order.
func StoredColumnNames(p probes.Probe) []string { return p.StoredColumnNames() }

// ConnectMonitored opens a probe-like session to dsn.
func ConnectMonitored(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	for k, v := range SessionParams {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	RegisterLSN(conn.TypeMap())
	return conn, nil
}

// lsnOID is pg_lsn's type oid, which pgx has no codec for.
const lsnOID = 3220

// RegisterLSN teaches a pgx type map pg_lsn, as a collector that decodes
// rows must: its binary form is a big-endian 64-bit integer, so int8's
// codec reads and writes it (every real LSN is below 2^63).
func RegisterLSN(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "pg_lsn", OID: lsnOID, Codec: pgtype.Int8Codec{}})
}

// CopyOut runs a probe the way the fetcher does — COPY (<select>) TO
// STDOUT, rows prefixed on arrival — and returns the COPY text.
func CopyOut(ctx context.Context, conn *pgx.Conn, p probes.Probe, connID int64, at time.Time) ([]byte, error) {
	sel, err := ProbeSelect(p, serverVersionNum(conn))
	if err != nil {
		return nil, err
	}
	w := fetcher.NewRowPrefixer(connID, at, 0)
	if _, err := conn.PgConn().CopyTo(ctx, w, "COPY ("+sel+") TO STDOUT"); err != nil {
		return nil, fmt.Errorf("copy out %s: %w", p.Name, err)
	}
	return w.Bytes(), nil
}

// serverVersionNum reads server_version_num from the startup parameters.
func serverVersionNum(conn *pgx.Conn) int {
	v := conn.PgConn().ParameterStatus("server_version")
	var major, minor int
	_, _ = fmt.Sscanf(v, "%d.%d", &major, &minor)
	return major*10000 + minor
}
