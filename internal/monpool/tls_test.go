package monpool_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// TestTLSModesPerConnection connects with each connection's own TLS
// settings to a server that rejects the role without TLS.
func TestTLSModesPerConnection(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{TLS: true, HBA: []string{
		"hostnossl all mon 127.0.0.1/32 reject",
		"hostssl all certmon 127.0.0.1/32 cert",
	}})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'mon-pw'", "CREATE ROLE certmon LOGIN")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("mon-pw")
	require.NoError(t, err)
	wrongCA, err := pgtest.NewCA(t.TempDir(), "wrong")
	require.NoError(t, err)
	cert, key := c.ClientCert(t, "certmon")
	m := newManager(t, box, 2)
	defer m.Close()

	base := catalog.Connection{Host: c.Host, Port: c.Port, Database: "postgres", Username: "mon", PasswordEncrypted: enc}
	with := func(id int64, mode, ca string) catalog.Connection {
		x := base
		x.ID, x.Name, x.SSLMode, x.SSLRootCert = id, mode, mode, ca
		return x
	}
	certConn := with(10, "verify-full", c.CAFile())
	certConn.Username, certConn.PasswordEncrypted, certConn.SSLCert, certConn.SSLKey = "certmon", "", cert, key

	for _, tc := range []struct {
		name string
		conn catalog.Connection
		ok   bool
		err  string
	}{
		{"verify-full with the right CA", with(1, "verify-full", c.CAFile()), true, ""},
		{"verify-ca with the right CA", with(2, "verify-ca", c.CAFile()), true, ""},
		{"require", with(3, "require", ""), true, ""},
		{"verify-full with a wrong CA", with(4, "verify-full", wrongCA.CertFile), false, "certificate signed by unknown authority"},
		{"disable, rejected by hostnossl", with(5, "disable", ""), false, "pg_hba.conf rejects connection"},
		{"client certificate", certConn, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := m.Acquire(context.Background(), tc.conn, "postgres")
			if !tc.ok {
				require.ErrorContains(t, err, tc.err)
				require.True(t, monpool.IsConnectionFailure(err), "a TLS or hba failure is the whole connection's")
				return
			}
			require.NoError(t, err)
			defer s.Release(false)
			var ssl bool
			require.NoError(t, s.Conn.QueryRow(context.Background(),
				"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl))
			require.True(t, ssl)
		})
	}
}

// TestDatabaseFailureIsNotTheServers: a database that is gone fails alone;
// the server is neither marked failing nor backed off.
func TestDatabaseFailureIsNotTheServers(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'mon-pw'")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("mon-pw")
	require.NoError(t, err)
	conn := catalog.Connection{ID: 1, Name: "c", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 2)
	defer m.Close()

	_, err = m.Acquire(context.Background(), conn, "no_such_db")
	require.Error(t, err)
	require.False(t, monpool.IsConnectionFailure(err))
	s, err := m.Acquire(context.Background(), conn, "postgres")
	require.NoError(t, err, "no backoff after a database-only failure")
	s.Release(false)

	// The same failure on the connection's own database is the server's.
	conn.Database = "no_such_db"
	_, err = m.Acquire(context.Background(), conn, "no_such_db")
	require.True(t, monpool.IsConnectionFailure(err))
}

// TestRowChangeKeepsTheCap: after the password changes, sessions of the
// old settings still borrowed count against the cap until released, and
// are closed then rather than pooled.
func TestRowChangeKeepsTheCap(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'mon-pw'")
	box, _ := secret.New("test secret")
	enc1, _ := box.Encrypt("mon-pw")
	enc2, _ := box.Encrypt("mon-pw") // same password, new ciphertext: a changed row
	conn := catalog.Connection{ID: 1, Name: "c", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc1, SSLMode: "disable"}
	m := newManager(t, box, 1)
	defer m.Close()

	old, err := m.Acquire(context.Background(), conn, "postgres")
	require.NoError(t, err)
	conn.PasswordEncrypted = enc2
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = m.Acquire(ctx, conn, "postgres")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "the old session still holds the only slot")
	old.Release(false)
	require.True(t, old.Conn.IsClosed(), "a session of outdated settings is closed on release")
	s, err := m.Acquire(context.Background(), conn, "postgres")
	require.NoError(t, err)
	require.Equal(t, 1, m.Open(1))
	s.Release(false)
}
