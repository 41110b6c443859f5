package monpool

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrBackoff is returned while a server that failed to connect is left
// alone, so a down server is not hammered by every probe.
var ErrBackoff = errors.New("server recently unreachable; waiting before reconnecting")

// ConnectError is a failure to open a session: the server is unreachable,
// refused the login, failed TLS, or the password could not be decrypted.
// While a server backs off, Acquire returns the failure that started the
// backoff again, with Backoff set, so its text stays the same for as long
// as the cause does (callers record it once, not once per attempt).
type ConnectError struct {
	Connection string // the connection's name
	Database   string // the database the session was for
	// DatabaseOnly is set when the failure concerns that database alone
	// (it was dropped, or the role may not connect to it) and the server
	// itself is fine; such a failure does not make the server back off.
	DatabaseOnly bool
	Backoff      bool // returned without dialling: the server backs off
	Err          error
}

func (e *ConnectError) Error() string { return e.Err.Error() }

// Unwrap exposes the cause, and ErrBackoff while backing off.
func (e *ConnectError) Unwrap() []error {
	if e.Backoff {
		return []error{ErrBackoff, e.Err}
	}
	return []error{e.Err}
}

// IsConnectionFailure reports whether err from Acquire means the whole
// monitored server cannot be reached with its connection settings — as
// opposed to a busy pool or a single database that went away. It is what
// public.connections.connection_error records.
func IsConnectionFailure(err error) bool {
	var ce *ConnectError
	return errors.As(err, &ce) && !ce.DatabaseOnly
}

// databaseOnly reports whether a dial failure concerns one database rather
// than the server: the database does not exist (3D000) or the role lacks
// CONNECT on it (42501). The maintenance database is the exception: a
// connection whose own database is gone cannot work at all.
func databaseOnly(err error, database, maintenance string) bool {
	if database == maintenance {
		return false
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "3D000" || pgErr.Code == "42501")
}
