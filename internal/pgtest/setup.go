package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// serverCredential returns the identity to run server binaries as, or nil
// when the process is not root and can run them as itself. initdb and
// postgres refuse to run as root, and CI runs as root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		u, err = ensureUser("pgctest")
		if err != nil {
			return nil, err
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of %s: %w", u.Username, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// ensureUser creates a system user for machines without a postgres user.
// Parallel tests may race to create it, so a failed useradd is followed by
// a second lookup before it counts as an error.
func ensureUser(name string) (*user.User, error) {
	if u, err := user.Lookup(name); err == nil {
		return u, nil
	}
	out, addErr := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
		"--shell", "/usr/sbin/nologin", name).CombinedOutput()
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("no postgres user and cannot create %s: %w: %s",
			name, errors.Join(addErr, err), strings.TrimSpace(string(out)))
	}
	return u, nil
}

// clusterBase is the parent of cluster directories. It must be searchable by
// the server's user, which a TMPDIR inside root's home is not; /tmp always is.
func clusterBase(cred *syscall.Credential) string {
	base := os.TempDir()
	if cred == nil {
		return base
	}
	for dir := base; ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if dir == filepath.Dir(dir) {
			return base
		}
	}
}

// makeClusterDir creates the private directory holding data/, the log and
// the socket, owned by the server's user. t.TempDir() is not used because
// its 0700 root-owned parents would lock that user out.
func makeClusterDir(cred *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp(clusterBase(cred), "pgtest-")
	if err != nil {
		return "", fmt.Errorf("create cluster dir: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("absolute cluster dir: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("chown cluster dir %s: %w", dir, err)
		}
	}
	return dir, nil
}

// serverEnv is the environment of server processes. PG* variables would
// redirect the server (PGDATA, PGPORT), locale variables would leak into
// initdb, and LD_LIBRARY_PATH would override the RUNPATH that points the
// npm builds at their own libssl and libicu.
func serverEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, "PG") || strings.HasPrefix(key, "LC_") ||
			key == "LANG" || key == "LANGUAGE" || key == "HOME" || key == "LD_LIBRARY_PATH" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "HOME="+home)
}

// asServer makes cmd run as the server's user from inside the cluster dir:
// initdb and postgres resolve their working directory and fail if that user
// cannot enter it.
func (c *Cluster) asServer(cmd *exec.Cmd) *exec.Cmd {
	cmd.Dir = c.dir
	cmd.Env = serverEnv(c.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

// initDB creates the data directory and writes its configuration.
func (c *Cluster) initDB(ctx context.Context, opts Options) error {
	cmd := c.asServer(exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"),
		"-D", c.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", c.DataDir, err, out)
	}
	if err := c.writeConf(opts.Settings); err != nil {
		return err
	}
	if opts.TLS {
		if err := c.writeTLS(); err != nil {
			return err
		}
	}
	if err := c.writeHBA(opts.HBA); err != nil {
		return err
	}
	return c.writeIdent(opts.Ident)
}

// writeIdent appends the caller's user name maps to initdb's pg_ident.conf,
// which holds only comments.
func (c *Cluster) writeIdent(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	path := filepath.Join(c.DataDir, "pg_ident.conf")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// socketPathMax is the usable length of sun_path; postgres appends
// "/.s.PGSQL.<port>" to the socket directory.
const socketPathMax = 107 - len("/.s.PGSQL.65535")

// writeConf appends the harness settings, then the caller's, to
// postgresql.conf; a later line wins, so callers can override ours.
func (c *Cluster) writeConf(settings map[string]string) error {
	sockets := ""
	if len(c.dir) <= socketPathMax {
		sockets = c.dir
		c.socketDir = c.dir
	}
	lines := []string{
		"\n# pgtest: speed over durability, TCP on loopback, log to stderr (the log file).",
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = " + quoteConf(sockets),
		"fsync = off",
		"full_page_writes = off",
		"synchronous_commit = off",
		"max_connections = 200",
		"logging_collector = off",
		"log_destination = 'stderr'",
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := settings[k]
		if k == "" || strings.ContainsAny(k, " \t\r\n=#'") || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("invalid setting %q = %q", k, v)
		}
		lines = append(lines, k+" = "+quoteConf(v))
	}
	path := filepath.Join(c.DataDir, "postgresql.conf")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// quoteConf quotes a postgresql.conf value; quoting every value is always
// valid and spares guessing which ones need it.
func quoteConf(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// writeHBA replaces initdb's pg_hba.conf. The caller's lines come first
// because the first matching line decides. The superuser is trusted so the
// harness needs no password; everyone else must pass SCRAM, so tests see
// real authentication.
func (c *Cluster) writeHBA(extra []string) error {
	lines := append([]string{"# pgtest: caller's lines first"}, extra...)
	if c.socketDir != "" {
		lines = append(lines,
			"local all postgres trust",
			"local replication postgres trust",
			"local all all scram-sha-256",
		)
	}
	lines = append(lines,
		"host all postgres 127.0.0.1/32 trust",
		"host replication postgres 127.0.0.1/32 trust",
		"host all all 127.0.0.1/32 scram-sha-256",
		"host replication all 127.0.0.1/32 scram-sha-256",
	)
	path := filepath.Join(c.DataDir, "pg_hba.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
