package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Connection is one monitored server as stored in public.connections. The
// password stays encrypted here; only the pool manager decrypts it, right
// before connecting.
type Connection struct {
	ID                int64
	Name              string
	Host              string
	Hostaddr          string
	Port              int
	Database          string
	Username          string
	PasswordEncrypted string
	SSLMode           string
	SSLCert           string
	SSLKey            string
	SSLRootCert       string
	OwnerUsername     string
	OwnerToken        string
	IsMonitored       bool
	ConnectionError   string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Fingerprint changes whenever anything used to connect changes, so pools
// built from an older row can be recognised and replaced.
func (c Connection) Fingerprint() string {
	return fmt.Sprintf("%s|%s|%d|%s|%s|%s|%s|%s|%s|%s", c.Host, c.Hostaddr, c.Port, c.Database,
		c.Username, c.PasswordEncrypted, c.SSLMode, c.SSLCert, c.SSLKey, c.SSLRootCert)
}

// Querier is what the catalog functions need: a pool, a connection or a
// transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrNotFound is returned when no connection matches.
var ErrNotFound = errors.New("connection not found")

// The optional columns are coalesced: rows inserted by hand may leave any
// of them NULL, and one such row must not make the whole listing fail.
const connectionColumns = `id, name, coalesce(host, ''), coalesce(hostaddr, ''), port, database_name, coalesce(username, ''),
	coalesce(password_encrypted, ''), coalesce(sslmode, 'prefer'), coalesce(sslcert, ''), coalesce(sslkey, ''),
	coalesce(sslrootcert, ''), coalesce(owner_username, ''), coalesce(owner_token, ''), is_monitored,
	coalesce(connection_error, ''), created_at, updated_at`

func scanConnection(row pgx.Row) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.Name, &c.Host, &c.Hostaddr, &c.Port, &c.Database, &c.Username,
		&c.PasswordEncrypted, &c.SSLMode, &c.SSLCert, &c.SSLKey, &c.SSLRootCert, &c.OwnerUsername,
		&c.OwnerToken, &c.IsMonitored, &c.ConnectionError, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// AddConnection inserts a monitored connection and returns its id.
func AddConnection(ctx context.Context, q Querier, c Connection) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO public.connections
		(name, host, hostaddr, port, database_name, username, password_encrypted, sslmode,
		 sslcert, sslkey, sslrootcert, owner_username, owner_token, is_monitored)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6, $7, $8, nullif($9, ''), nullif($10, ''),
		 nullif($11, ''), nullif($12, ''), nullif($13, ''), true)
		RETURNING id`,
		c.Name, c.Host, c.Hostaddr, c.Port, c.Database, c.Username, c.PasswordEncrypted, c.SSLMode,
		c.SSLCert, c.SSLKey, c.SSLRootCert, c.OwnerUsername, c.OwnerToken).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert connection %q: %w", c.Name, nameTaken(err))
	}
	return id, nil
}

// Filter narrows ListConnections; empty fields match everything.
type Filter struct {
	OwnerUsername string
	OwnerToken    string
	MonitoredOnly bool
}

// ListConnections returns the connections matching f, ordered by id.
func ListConnections(ctx context.Context, q Querier, f Filter) ([]Connection, error) {
	rows, err := q.Query(ctx, `SELECT `+connectionColumns+` FROM public.connections
		WHERE ($1 = '' OR owner_username = $1) AND ($2 = '' OR owner_token = $2)
		  AND (NOT $3 OR is_monitored)
		ORDER BY id`, f.OwnerUsername, f.OwnerToken, f.MonitoredOnly)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Connection, error) { return scanConnection(r) })
}

// SetConnectionError records the latest connection failure of a server, or
// clears it when msg is empty. It only writes when the value changes.
func SetConnectionError(ctx context.Context, q Querier, id int64, msg string) error {
	_, err := q.Exec(ctx, `UPDATE public.connections SET connection_error = nullif($2, '')
		WHERE id = $1 AND connection_error IS DISTINCT FROM nullif($2, '')`, id, msg)
	if err != nil {
		return fmt.Errorf("set connection_error of %d: %w", id, err)
	}
	return nil
}
