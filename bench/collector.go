package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// pprofOverlay is compiled into the benchmark's build of cmd/pgcollector
// through `go build -overlay`, so that the running collector can be
// profiled without the product carrying a profiling endpoint. It listens
// only when PGC_BENCH_PPROF is set; the build is otherwise the product's.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

func init() {
	if addr := os.Getenv("PGC_BENCH_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// BuildCollector compiles cmd/pgcollector into dir with the profiling
// overlay and returns the binary's path.
func BuildCollector(ctx context.Context, dir string) (string, error) {
	root, err := e2e.ModuleRoot()
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "zz_bench_pprof.go")
	if err := os.WriteFile(src, []byte(pprofOverlay), 0o644); err != nil {
		return "", err
	}
	replace := map[string]string{filepath.Join(root, "cmd", "pgcollector", "zz_bench_pprof.go"): src}
	// BENCH_OVERLAY names a `go build -overlay` file of further
	// replacements, to measure a patch without changing the tree.
	if extra := os.Getenv("BENCH_OVERLAY"); extra != "" {
		raw, err := os.ReadFile(extra)
		if err != nil {
			return "", fmt.Errorf("BENCH_OVERLAY: %w", err)
		}
		var o struct{ Replace map[string]string }
		if err := json.Unmarshal(raw, &o); err != nil {
			return "", fmt.Errorf("BENCH_OVERLAY %s: %w", extra, err)
		}
		for k, v := range o.Replace {
			replace[k] = v
		}
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		return "", err
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "pgcollector")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-overlay", overlayFile, "-o", out, "./cmd/pgcollector")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

// goTool is the go command: the one on PATH, else the standard install.
func goTool() string {
	if _, err := exec.LookPath("go"); err != nil && fileExists("/usr/local/go/bin/go") {
		return "/usr/local/go/bin/go"
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// FreeAddr returns a 127.0.0.1 address nobody listens on right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Collector is one `pgcollector run` process and the addresses it
// exposes to the benchmark: the embedded NATS server (PGC_NATS_LISTEN),
// the self-metrics (PGC_HTTP_ADDR) and the profiling overlay.
type Collector struct {
	Env        e2e.Env
	NatsAddr   string
	HTTPAddr   string
	PprofAddr  string
	LogPath    string
	SecretFile string

	cmd  *exec.Cmd
	done chan error
}

// NewCollector prepares the environment of every pgcollector command:
// datastore, secret, data directory, JSON logs into logPath, and free
// addresses for NATS, metrics and pprof.
func NewCollector(bin, dir, datastoreURL string, extra ...string) (*Collector, error) {
	secretFile, err := e2e.WriteSecret(dir, "bench server secret")
	if err != nil {
		return nil, err
	}
	c := &Collector{LogPath: filepath.Join(dir, "collector.log"), SecretFile: secretFile}
	for _, a := range []*string{&c.NatsAddr, &c.HTTPAddr, &c.PprofAddr} {
		if *a, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	c.Env = e2e.Env{Bin: bin, Vars: append([]string{
		"PGC_DATASTORE_URL=" + datastoreURL,
		"PGC_SECRET_FILE=" + secretFile,
		"PGC_DATA_DIR=" + filepath.Join(dir, "data"),
		"PGC_NATS_LISTEN=" + c.NatsAddr,
		"PGC_HTTP_ADDR=" + c.HTTPAddr,
		"PGC_BENCH_PPROF=" + c.PprofAddr,
		"PGC_LOG_FORMAT=json",
	}, extra...)}
	return c, nil
}

// Run runs one command to completion and fails on a non-zero exit.
func (c *Collector) Run(ctx context.Context, args ...string) (string, error) {
	code, out, errOut := c.Env.Run(ctx, "", args...)
	if code != 0 {
		return out, fmt.Errorf("pgcollector %v: exit %d: %s%s", args, code, out, errOut)
	}
	return out, nil
}

// Start starts `pgcollector run`, its output appended to LogPath.
func (c *Collector) Start() error {
	logFile, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	c.cmd = exec.Command(c.Env.Bin, "run")
	c.cmd.Env = append(os.Environ(), c.Env.Vars...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	// The collector must not outlive the benchmark, however it ends.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return err
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait() }()
	return nil
}

// Pid is the process id of the running collector.
func (c *Collector) Pid() int { return c.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to limit; it kills the process after
// that. It returns the exit code (-1 when killed).
func (c *Collector) Stop(limit time.Duration) int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(limit):
		_ = c.cmd.Process.Kill()
		<-c.done
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// Exited reports whether the collector has ended, and how.
func (c *Collector) Exited() (bool, error) {
	select {
	case err := <-c.done:
		c.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Register stores n monitored connections named sim-0001 … spread round
// robin over targets. The first len(targets) passwords are encrypted like
// `connection add` does; the other rows reuse those ciphertexts, which
// costs the collector the same (it decrypts every row on its own) and
// spares the benchmark n key derivations.
func Register(ctx context.Context, pool *pgxpool.Pool, secretFile string, targets []Target, n int) error {
	box, err := secret.ReadFile(secretFile)
	if err != nil {
		return err
	}
	enc := make([]string, len(targets))
	for i := range targets {
		if enc[i], err = box.Encrypt(MonitorPassword); err != nil {
			return err
		}
	}
	names, hosts, dbs, users, pws := []string{}, []string{}, []string{}, []string{}, []string{}
	ports := []int32{}
	for i := range n {
		t := targets[i%len(targets)]
		names = append(names, fmt.Sprintf("sim-%04d", i+1))
		hosts, ports, dbs = append(hosts, t.Host), append(ports, int32(t.Port)), append(dbs, "postgres")
		users, pws = append(users, MonitorRole), append(pws, enc[i%len(targets)])
	}
	_, err = pool.Exec(ctx, `
INSERT INTO public.connections (name, host, port, database_name, username, password_encrypted, sslmode, owner_username)
SELECT name, host, port, db, usr, pw, 'disable', 'bench'
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[]) AS u(name, host, port, db, usr, pw)`,
		names, hosts, ports, dbs, users, pws)
	if err != nil {
		return fmt.Errorf("register %d connections: %w", n, err)
	}
	return nil
}

// Target is a monitored cluster's address.
type Target struct {
	Host string
	Port int
}

// SetIntervals enables every probe at the given intervals.
func SetIntervals(ctx context.Context, pool *pgxpool.Pool, intervals map[string]int) error {
	names, secs := []string{}, []int32{}
	for n, s := range intervals {
		names, secs = append(names, n), append(secs, int32(s))
	}
	_, err := pool.Exec(ctx, `UPDATE public.probes p SET is_enabled = true, collection_interval_seconds = u.s
FROM unnest($1::text[], $2::int[]) AS u(n, s) WHERE p.name = u.n`, names, secs)
	return err
}
