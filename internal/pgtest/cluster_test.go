package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestStartMatrix starts one cluster per major of the matrix, in parallel,
// and checks what other packages rely on: the version, the settings, and
// that non-superusers really authenticate with SCRAM over TCP.
func TestStartMatrix(t *testing.T) {
	t.Parallel()
	for _, major := range Versions() {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			started := time.Now()
			c := Start(t, Options{
				Version: major,
				Settings: map[string]string{
					"shared_preload_libraries": "pg_stat_statements",
					"track_functions":          "all",
				},
				HBA: []string{"host all rejected_role 127.0.0.1/32 reject"},
			})
			t.Logf("PostgreSQL %d (server_version_num %d) ready on port %d in %s; bin %s, share %s",
				c.Major, c.Version, c.Port, time.Since(started).Round(time.Millisecond), c.BinDir, c.ShareDir)

			require.Equal(t, major, c.Major)
			require.Equal(t, major, c.Version/10000)
			require.Equal(t, "127.0.0.1", c.Host)
			require.DirExists(t, filepath.Join(c.ShareDir, "extension"))
			require.True(t, strings.HasPrefix(c.DataDir, os.TempDir()) || strings.HasPrefix(c.DataDir, "/tmp/"), c.DataDir)

			const password = `p@ss:w/rd'x%?`
			c.Exec(t, "postgres",
				"CREATE DATABASE app",
				"CREATE ROLE app_user LOGIN PASSWORD 'p@ss:w/rd''x%?'",
				"CREATE ROLE rejected_role LOGIN PASSWORD 'pw'",
			)
			c.Exec(t, "app",
				"CREATE EXTENSION pg_stat_statements",
				"CREATE TABLE t (i int)",
				"GRANT ALL ON t TO app_user",
			)

			super := connect(t, c.DSN("app"))
			for setting, want := range map[string]string{
				"fsync":                    "off",
				"synchronous_commit":       "off",
				"max_connections":          "200",
				"listen_addresses":         "127.0.0.1",
				"track_functions":          "all",
				"shared_preload_libraries": "pg_stat_statements",
				"server_encoding":          "UTF8",
				"password_encryption":      "scram-sha-256",
			} {
				require.Equal(t, want, queryString(t, super, "SHOW "+setting), setting)
			}
			// lc_collate stopped being a setting in PostgreSQL 16; the catalog has it on all.
			require.Equal(t, "C", queryString(t, super,
				"SELECT datcollate::text FROM pg_database WHERE datname = current_database()"))
			require.Equal(t, "true", queryString(t, super,
				"SELECT (rolpassword LIKE 'SCRAM-SHA-256$%')::text FROM pg_authid WHERE rolname = 'app_user'"))

			user := connect(t, c.DSNFor("app_user", password, "app"))
			require.Equal(t, "app_user", queryString(t, user, "SELECT current_user::text"))
			_, err := user.Exec(context.Background(), "INSERT INTO t VALUES (1)")
			require.NoError(t, err)

			requireAuthError(t, c.DSNFor("app_user", "wrong", "app"), "28P01")
			requireAuthError(t, c.DSNFor("rejected_role", "pw", "app"), "28000")
		})
	}
}

// requireAuthError checks that connecting fails with the given SQLSTATE:
// 28P01 for a wrong password, 28000 for a pg_hba.conf reject.
func requireAuthError(t *testing.T, dsn, code string) {
	t.Helper()
	conn, err := tryConnect(dsn)
	if err == nil {
		_ = conn.Close(context.Background())
	}
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, pgErr.Message)
}

func TestDSN(t *testing.T) {
	t.Parallel()
	c := &Cluster{Host: "127.0.0.1", Port: 5432}
	tests := []struct {
		name, got, want string
	}{
		{"superuser", c.DSN("db"), "postgres://postgres@127.0.0.1:5432/db?sslmode=disable"},
		{"password", c.DSNFor("u", "pw", "db"), "postgres://u:pw@127.0.0.1:5432/db?sslmode=disable"},
		{"escaped", c.DSNFor("u", "p@:/", "my db"), "postgres://u:p%40%3A%2F@127.0.0.1:5432/my%20db?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}

// BenchmarkStartCluster measures a full start (initdb, start, first
// connection) and Close, per major of the matrix.
func BenchmarkStartCluster(b *testing.B) {
	for _, major := range Versions() {
		b.Run(fmt.Sprintf("pg%d", major), func(b *testing.B) {
			for b.Loop() {
				c, err := StartCluster(context.Background(), Options{Version: major})
				require.NoError(b, err)
				require.NoError(b, c.Close())
			}
		})
	}
}
