package monpool_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/monpool"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// newManager builds a manager with test timeouts; tune changes the
// configuration before it is used.
func newManager(t *testing.T, box *secret.Box, maxConns int, tune ...func(*monpool.Config)) *monpool.Manager {
	t.Helper()
	cfg := monpool.Config{MaxConns: maxConns, AcquireTimeout: 20 * time.Second, IdleTimeout: time.Minute,
		ConnectTimeout: 5 * time.Second, StatementTimeout: 5 * time.Second, LockTimeout: time.Second, MaxBackoff: 2 * time.Second}
	for _, f := range tune {
		f(&cfg)
	}
	m, err := monpool.New(cfg, box, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return m
}

func TestCapHoldsAcrossDatabases(t *testing.T) {
	// Registered first, so it runs after the cluster's own cleanup.
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	c := pgtest.Start(t, pgtest.Options{})
	ctx := context.Background()
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("mon-pw")
	require.NoError(t, err)
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'mon-pw'", "GRANT pg_monitor TO mon")
	var dbs []string
	for i := range 12 {
		db := fmt.Sprintf("db%02d", i)
		c.Exec(t, "postgres", "CREATE DATABASE "+db)
		dbs = append(dbs, db)
	}
	conn := catalog.Connection{ID: 1, Name: "c1", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 3)
	defer m.Close()

	admin, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var n int64
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = 'mon'`).Scan(&n); err == nil && n > peak.Load() {
				peak.Store(n)
			}
		}
	}()
	var wg sync.WaitGroup
	for round := range 3 {
		for _, db := range dbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := m.Acquire(ctx, conn, db)
				if !assertNoErr(t, err) {
					return
				}
				var got, app string
				var ro string
				err = s.Conn.QueryRow(ctx, `SELECT current_database(), current_setting('application_name'),
					current_setting('default_transaction_read_only')`).Scan(&got, &app, &ro)
				s.Release(err != nil)
				if assertNoErr(t, err) {
					require.Equal(t, db, got, "round %d", round)
					require.Equal(t, "pgcollector", app)
					require.Equal(t, "on", ro)
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	<-sampled
	require.LessOrEqual(t, m.Open(1), 3)
	require.LessOrEqual(t, peak.Load(), int64(3), "sessions of the role at any sampled moment")
	require.Positive(t, peak.Load())
}

func assertNoErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestWrongPasswordBacksOffAndNeverLeaksThePassword(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'right-pw'")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("canary-wrong-pw")
	require.NoError(t, err)
	conn := catalog.Connection{ID: 2, Name: "bad", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 2)
	defer m.Close()
	_, err = m.Acquire(context.Background(), conn, "postgres")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "canary")
	_, err = m.Acquire(context.Background(), conn, "postgres")
	require.ErrorIs(t, err, monpool.ErrBackoff, "a failing server is not dialled again at once")

	// A corrected row (new password) gets a fresh pool and connects.
	enc2, _ := box.Encrypt("right-pw")
	conn.PasswordEncrypted = enc2
	s, err := m.Acquire(context.Background(), conn, "postgres")
	require.NoError(t, err)
	s.Release(false)
}

func TestSweepClosesPoolsOfRemovedConnections(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'pw'")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("pw")
	require.NoError(t, err)
	conn := catalog.Connection{ID: 7, Name: "gone", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 2)
	defer m.Close()
	s, err := m.Acquire(context.Background(), conn, "postgres")
	require.NoError(t, err)
	s.Release(false)
	require.Equal(t, 1, m.Open(7))
	m.Sweep(func(id int64) bool { return id != 7 })
	require.Equal(t, 0, m.Open(7))
}

func TestBusySessionIsAwaitedRatherThanAWarmOneTraded(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	c.Exec(t, "postgres", "CREATE ROLE mon LOGIN PASSWORD 'pw'", "CREATE DATABASE other")
	box, _ := secret.New("test secret")
	enc, err := box.Encrypt("pw")
	require.NoError(t, err)
	conn := catalog.Connection{ID: 8, Name: "warm", Host: c.Host, Port: c.Port, Database: "postgres",
		Username: "mon", PasswordEncrypted: enc, SSLMode: "disable"}
	m := newManager(t, box, 2)
	defer m.Close()
	ctx := context.Background()
	pid := func(s *monpool.Session) uint32 { return s.Conn.PgConn().PID() }

	// The budget is full: one session of postgres borrowed, one of other idle.
	busy, err := m.Acquire(ctx, conn, "postgres")
	require.NoError(t, err)
	o, err := m.Acquire(ctx, conn, "other")
	require.NoError(t, err)
	otherPID := pid(o)
	o.Release(false)

	got := make(chan *monpool.Session)
	go func() {
		s, err := m.Acquire(ctx, conn, "postgres")
		assertNoErr(t, err)
		got <- s
	}()
	select {
	case s := <-got:
		s.Release(false)
		t.Fatal("a second postgres session was opened by closing the idle one of other")
	case <-time.After(300 * time.Millisecond):
	}
	busyPID := pid(busy)
	busy.Release(false)
	s := <-got
	require.Equal(t, busyPID, pid(s), "the waiter gets the session that was busy")
	s.Release(false)

	o, err = m.Acquire(ctx, conn, "other")
	require.NoError(t, err)
	require.Equal(t, otherPID, pid(o), "the idle session of other was kept")
	o.Release(false)

	// With nothing of a database borrowed, an idle session of another
	// database is traded so the probe is not stuck behind the budget.
	p1, err := m.Acquire(ctx, conn, "postgres")
	require.NoError(t, err)
	third, err := m.Acquire(ctx, conn, "template1")
	require.NoError(t, err, "the idle session of other is traded for template1")
	require.Equal(t, 2, m.Open(8))
	third.Release(false)
	p1.Release(false)
}
