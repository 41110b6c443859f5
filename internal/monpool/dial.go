package monpool

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// sessionParams are sent in the startup packet, so they hold from the
// first statement and cannot be forgotten by a code path. The formatting
// settings make COPY text output identical across servers, which the sink
// relies on when it feeds the bytes to COPY FROM unchanged.
func (m *Manager) sessionParams() map[string]string {
	return map[string]string{
		"application_name":                    "pgcollector",
		"default_transaction_read_only":       "on",
		"statement_timeout":                   strconv.FormatInt(m.cfg.StatementTimeout.Milliseconds(), 10),
		"lock_timeout":                        strconv.FormatInt(m.cfg.LockTimeout.Milliseconds(), 10),
		"idle_in_transaction_session_timeout": "60000",
		"TimeZone":                            "UTC",
		"DateStyle":                           "ISO, MDY",
		"IntervalStyle":                       "postgres",
		"extra_float_digits":                  "3",
		"bytea_output":                        "hex",
	}
}

func quoteDSN(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// connConfig builds the pgx configuration of a connection's sessions; dial
// sets the database. The password is set on the parsed config, never put
// into a string that could be printed.
func (m *Manager) connConfig(c catalog.Connection) (*pgx.ConnConfig, error) {
	host := c.Host
	if c.Hostaddr != "" {
		host = c.Hostaddr
	}
	parts := []string{
		"host=" + quoteDSN(host),
		"port=" + strconv.Itoa(c.Port),
		"dbname=" + quoteDSN(c.Database),
		"user=" + quoteDSN(c.Username),
		"sslmode=" + quoteDSN(orDefault(c.SSLMode, "prefer")),
	}
	for k, v := range map[string]string{"sslcert": c.SSLCert, "sslkey": c.SSLKey, "sslrootcert": c.SSLRootCert} {
		if v != "" {
			parts = append(parts, k+"="+quoteDSN(v))
		}
	}
	cfg, err := pgx.ParseConfig(strings.Join(parts, " "))
	if err != nil {
		return nil, fmt.Errorf("connection %s: bad settings: %w", c.Name, err)
	}
	if c.Hostaddr != "" && cfg.TLSConfig != nil {
		cfg.TLSConfig.ServerName = c.Host
	}
	if c.PasswordEncrypted != "" {
		pw, err := m.decrypt(c.PasswordEncrypted)
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", c.Name, err)
		}
		cfg.Password = pw
	}
	cfg.ConnectTimeout = m.cfg.ConnectTimeout
	for k, v := range m.sessionParams() {
		cfg.RuntimeParams[k] = v
	}
	// Probe SQL is run once per slot; caching prepared statements per
	// session would only hold server memory.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// The simple protocol never uses pgx's statement and description
	// caches; leaving them on costs tens of KB per session.
	cfg.StatementCacheCapacity = 0
	cfg.DescriptionCacheCapacity = 0
	return cfg, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func (m *Manager) dial(ctx context.Context, c catalog.Connection, base *pgx.ConnConfig, database string) (*pgx.Conn, error) {
	cfg := base.Copy()
	cfg.Database = database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s database %s: %w", c.Name, database, err)
	}
	return conn, nil
}
