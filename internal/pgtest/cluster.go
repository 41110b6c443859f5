package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Options describe the cluster to start.
type Options struct {
	// Version is the PostgreSQL major; 0 means $PG_BIN if set, else DefaultMajor.
	Version int
	// Settings are extra postgresql.conf settings, e.g. shared_preload_libraries,
	// wal_level, track_functions. They override the harness defaults.
	Settings map[string]string
	// HBA are extra pg_hba.conf lines, inserted before the defaults.
	HBA []string
	// Ident are pg_ident.conf lines ("map system_user pg_role"); the
	// harness itself maps nothing.
	Ident []string
	// TLS turns ssl on with a throwaway CA and a server certificate for
	// 127.0.0.1 and localhost; see CAFile and ClientCert (tls.go).
	TLS bool
}

// Cluster is one running (or stopped) throwaway PostgreSQL server.
type Cluster struct {
	Major    int    // PostgreSQL major of the binaries
	Version  int    // server_version_num reported by the server
	Host     string // always "127.0.0.1"
	Port     int
	DataDir  string
	BinDir   string
	ShareDir string // holds extension/, see InstallExtension

	dir       string              // cluster root: data/, server.log, socket
	logPath   string              // the server's stderr
	socketDir string              // "" when the path is too long for a socket
	cred      *syscall.Credential // nil unless running as root

	mu     sync.Mutex
	pm     *postmaster // nil while stopped
	closed bool
}

// Start starts a cluster for a test and stops and removes it when the test
// ends. It fails the test with the reason if the cluster cannot start.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := StartCluster(context.Background(), opts)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: PostgreSQL %d on port %d, last lines of its log:\n%s", c.Major, c.Port, c.logTail(30))
		}
		if err := c.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// StartCluster starts a cluster; the caller must Close it. ctx bounds the
// startup only: the server keeps running after ctx is done.
func StartCluster(ctx context.Context, opts Options) (*Cluster, error) {
	bins, err := resolveBinaries(opts.Version)
	if err != nil {
		return nil, fmt.Errorf("find PostgreSQL binaries: %w", err)
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := makeClusterDir(cred)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Major:    bins.major,
		Host:     "127.0.0.1",
		DataDir:  filepath.Join(dir, "data"),
		BinDir:   bins.binDir,
		ShareDir: bins.shareDir,
		dir:      dir,
		logPath:  filepath.Join(dir, "server.log"),
		cred:     cred,
	}
	if err := c.initDB(ctx, opts); err != nil {
		return nil, errors.Join(fmt.Errorf("PostgreSQL %d: %w", c.Major, err), c.Close())
	}
	if err := c.startOnFreePort(ctx, freePort); err != nil {
		return nil, errors.Join(fmt.Errorf("start PostgreSQL %d: %w", c.Major, err), c.Close())
	}
	return c, nil
}

// Close stops the server (fast shutdown, or SIGKILL if that hangs) and
// removes all of its files. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	if c.pm != nil {
		if err := c.pm.stop(); err != nil {
			errs = append(errs, err)
		}
		c.pm = nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove cluster dir: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close cluster %s: %w", c.dir, err)
	}
	return nil
}

// DSN is the URL for the superuser postgres over TCP, which needs no password.
func (c *Cluster) DSN(database string) string {
	return c.dsn(url.User("postgres"), database)
}

// DSNFor is the URL for any role; the password is checked with SCRAM.
func (c *Cluster) DSNFor(user, password, database string) string {
	return c.dsn(url.UserPassword(user, password), database)
}

func (c *Cluster) dsn(user *url.Userinfo, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     user,
		Host:     c.Host + ":" + strconv.Itoa(c.Port),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Exec runs each statement as the superuser in database, in order and each
// in its own implicit transaction, and fails the test on the first error.
// It uses its own timeout rather than the test's context so that it also
// works inside t.Cleanup.
func (c *Cluster) Exec(t testing.TB, database string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(database))
	require.NoErrorf(t, err, "pgtest: connect to database %q on port %d", database, c.Port)
	defer func() { _ = conn.Close(ctx) }()
	for _, stmt := range sql {
		_, err := conn.Exec(ctx, stmt)
		require.NoErrorf(t, err, "pgtest: exec in database %q: %s", database, stmt)
	}
}
