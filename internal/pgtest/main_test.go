package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind, which for
// this package would mean a postmaster that was never reaped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// connect opens a connection that the test closes when it ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := tryConnect(dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// tryConnect opens a connection with a short timeout, for tests that expect
// the server to refuse.
func tryConnect(dsn string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, dsn)
}

// queryString runs a query that returns a single text value.
func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	require.NoError(t, conn.QueryRow(context.Background(), sql).Scan(&s), sql)
	return s
}
