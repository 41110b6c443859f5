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

// burstSetup starts a cluster with a second database and a manager with the
// shipped per-database policy: one session per database, and sessions to
// databases other than the connection's own closed after otherIdle.
func burstSetup(t *testing.T, otherIdle time.Duration) (*monpool.Manager, catalog.Connection) {
	t.Helper()
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'pw'", "CREATE DATABASE app")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("pw")
	require.NoError(t, err)
	conn := catalog.Connection{ID: 9, Name: "burst", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 5, func(c *monpool.Config) {
		c.PerDatabase = 1
		c.OtherIdleTimeout = otherIdle
	})
	return m, conn
}

func TestProbesOfOneDatabaseShareItsSession(t *testing.T) {
	m, conn := burstSetup(t, time.Minute)
	defer m.Close()
	ctx := context.Background()

	first, err := m.Acquire(ctx, conn, "app")
	require.NoError(t, err)
	got := make(chan *monpool.Session)
	go func() {
		s, err := m.Acquire(ctx, conn, "app")
		assertNoErr(t, err)
		got <- s
	}()
	select {
	case s := <-got:
		s.Release(false)
		t.Fatal("a second session of app was opened although the cap had room: the burst should queue on one")
	case <-time.After(300 * time.Millisecond):
	}
	// Another database is not held up by app's queue.
	own, err := m.Acquire(ctx, conn, "postgres")
	require.NoError(t, err)
	require.Equal(t, 2, m.Open(conn.ID))
	own.Release(false)

	pid := first.Conn.PgConn().PID()
	first.Release(false)
	second := <-got
	require.Equal(t, pid, second.Conn.PgConn().PID(), "the waiter runs on the session that was busy")
	second.Release(false)
	require.Equal(t, 2, m.Open(conn.ID))
}

func TestSessionsToOtherDatabasesCloseAfterTheBurst(t *testing.T) {
	m, conn := burstSetup(t, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = m.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	own, err := m.Acquire(ctx, conn, "postgres")
	require.NoError(t, err)
	ownPID := own.Conn.PgConn().PID()
	app, err := m.Acquire(ctx, conn, "app")
	require.NoError(t, err)
	own.Release(false)
	app.Release(false)
	require.Equal(t, 2, m.Open(conn.ID))

	require.Eventually(t, func() bool { return m.Open(conn.ID) == 1 }, 10*time.Second, 100*time.Millisecond,
		"the idle session to app outlived PGC_MONITORED_OTHER_DB_IDLE_TIMEOUT")
	again, err := m.Acquire(ctx, conn, "postgres")
	require.NoError(t, err)
	require.Equal(t, ownPID, again.Conn.PgConn().PID(), "the session to the connection's own database is kept warm")
	again.Release(false)
}
