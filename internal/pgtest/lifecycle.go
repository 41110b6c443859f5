package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// readyTimeout bounds how long a starting server may take to accept a
// connection, crash recovery included.
const readyTimeout = 30 * time.Second

// portAttempts is how many ports a first start tries. A free port can be
// taken by another process between picking it and the server binding it.
const portAttempts = 5

// errPortTaken marks a start that failed only because the port was in use.
var errPortTaken = errors.New("port already in use")

// Stop shuts the server down (fast) and keeps its data, to test what
// happens when the datastore goes away. Restart brings it back.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil {
		return nil
	}
	err := c.pm.stop()
	c.pm = nil
	if err != nil {
		return fmt.Errorf("stop PostgreSQL on port %d: %w", c.Port, err)
	}
	return nil
}

// Kill SIGKILLs the postmaster and its children, like a crash of the
// machine's PostgreSQL. Restart then runs crash recovery. Because the
// harness sets synchronous_commit=off, transactions committed in the last
// few hundred milliseconds may be lost, as in a real crash; a test that
// needs them to survive sets synchronous_commit=on in its session.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil {
		return nil
	}
	err := c.pm.kill()
	c.pm = nil
	if err != nil {
		return fmt.Errorf("kill PostgreSQL on port %d: %w", c.Port, err)
	}
	return nil
}

// Restart starts the server again on the same port and data directory
// after Stop or Kill, and waits until it accepts connections.
func (c *Cluster) Restart() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("restart PostgreSQL: cluster is closed")
	case c.pm != nil:
		return fmt.Errorf("restart PostgreSQL on port %d: server is running", c.Port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.startOnce(ctx); err != nil {
		return fmt.Errorf("restart PostgreSQL %d on port %d: %w", c.Major, c.Port, err)
	}
	return nil
}

// freePort asks the kernel for a port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startOnFreePort starts the first run, trying another port when the one
// picked was taken in the meantime.
func (c *Cluster) startOnFreePort(ctx context.Context, nextPort func() (int, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for range portAttempts {
		c.Port, err = nextPort()
		if err != nil {
			return err
		}
		if err = c.startOnce(ctx); !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return fmt.Errorf("%d attempts: %w", portAttempts, err)
}

// startOnce spawns the postmaster on c.Port and waits until it is ready.
// On failure nothing is left running and the error carries the log's tail.
func (c *Cluster) startOnce(ctx context.Context) error {
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	offset, _ := logFile.Seek(0, io.SeekEnd)
	// The process gets its own copy of the descriptor, so ours can be closed
	// right after the spawn; an *os.File also spares exec a copy goroutine.
	// No CommandContext here: the server must outlive the ctx of its start.
	cmd := c.asServer(exec.Command(filepath.Join(c.BinDir, "postgres"), "-D", c.DataDir, "-p", strconv.Itoa(c.Port)))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	pm, err := spawn(cmd)
	logFile.Close()
	if err != nil {
		return err
	}
	if err := c.waitReady(ctx, pm); err != nil {
		killErr := pm.kill()
		if c.portTakenSince(offset) {
			return errors.Join(fmt.Errorf("port %d: %w", c.Port, errPortTaken), killErr)
		}
		return errors.Join(fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, c.logPath, c.logTail(30)), killErr)
	}
	c.pm = pm
	return nil
}

// waitReady connects with pgx until the server answers. It checks the data
// directory of whatever answered, because when our server failed to bind
// the port, another cluster may be listening there.
func (c *Cluster) waitReady(ctx context.Context, pm *postmaster) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// A probe can hang on a port held by something that is not our server;
	// the server's exit must end it at once.
	go func() {
		select {
		case <-pm.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		err := c.probe(ctx)
		switch {
		case pm.exited():
			return fmt.Errorf("postgres exited during startup: %v", pm.err)
		case err == nil:
			return nil
		}
		select {
		case <-ctx.Done():
			if pm.exited() {
				continue
			}
			return fmt.Errorf("not ready after %s: %w", readyTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probe makes one connection attempt and records server_version_num.
func (c *Cluster) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var dataDir string
	var version int
	err = conn.QueryRow(ctx, "SELECT current_setting('data_directory'), current_setting('server_version_num')::int").
		Scan(&dataDir, &version)
	if err != nil {
		return fmt.Errorf("query server identity: %w", err)
	}
	if filepath.Clean(dataDir) != c.DataDir {
		return fmt.Errorf("port %d is served by another cluster (%s)", c.Port, dataDir)
	}
	if version/10000 != c.Major {
		return fmt.Errorf("server reports version %d, want major %d", version, c.Major)
	}
	c.Version = version
	return nil
}

// portTakenSince reports whether the log written after offset says the
// listen address was in use.
func (c *Cluster) portTakenSince(offset int64) bool {
	raw, err := os.ReadFile(c.logPath)
	if err != nil || int64(len(raw)) < offset {
		return false
	}
	return bytes.Contains(raw[offset:], []byte("Address already in use"))
}

// logTail returns the last n lines of the server log, for error messages.
func (c *Cluster) logTail(n int) string {
	raw, err := os.ReadFile(c.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
