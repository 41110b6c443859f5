package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pgcollector/pgcollector/probes"
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
// wrapper: connection_id, collected_at (and database_name) prepended to
// the probe's columns.
func ProbeSelect(p probes.Probe, version int, connID int64, at time.Time) (string, error) {
	sql, ok := p.QueryFor(version)
	if !ok {
		return "", fmt.Errorf("%s: no query for server version %d", p.Name, version)
	}
	sql = probes.WithTopN(sql, 1000)
	prefix := fmt.Sprintf("%d::integer, '%s'::timestamptz", connID, at.UTC().Format(time.RFC3339Nano))
	if p.Scope == probes.ScopeDatabase {
		prefix += ", current_database()::text"
	}
	return "SELECT " + prefix + ", q.* FROM (" + sql + ") q", nil
}

// StoredColumnNames are the column names of metrics.<probe>, in order.
func StoredColumnNames(p probes.Probe) []string {
	cols := p.StoredColumns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

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
// STDOUT — and returns the COPY text.
func CopyOut(ctx context.Context, conn *pgx.Conn, p probes.Probe, connID int64, at time.Time) ([]byte, error) {
	sel, err := ProbeSelect(p, serverVersionNum(conn), connID, at)
	if err != nil {
		return nil, err
	}
	var buf strings.Builder
	if _, err := conn.PgConn().CopyTo(ctx, &buf, "COPY ("+sel+") TO STDOUT"); err != nil {
		return nil, fmt.Errorf("copy out %s: %w", p.Name, err)
	}
	return []byte(buf.String()), nil
}

// serverVersionNum reads server_version_num from the startup parameters.
func serverVersionNum(conn *pgx.Conn) int {
	v := conn.PgConn().ParameterStatus("server_version")
	var major, minor int
	_, _ = fmt.Sscanf(v, "%d.%d", &major, &minor)
	return major*10000 + minor
}
