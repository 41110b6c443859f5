package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ModuleRoot finds the repository root from the current directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the current directory")
		}
		dir = parent
	}
}

// Build compiles cmd/pgcollector into dir and returns the binary's path.
// Build tags, if any, select test-only code such as pgc_faults.
func Build(ctx context.Context, dir string, tags ...string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "pgcollector")
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	// Tests may run with a PATH that lacks go; the Makefile's install is
	// the fallback.
	goBin := "go"
	if _, err := exec.LookPath("go"); err != nil && fileExists("/usr/local/go/bin/go") {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, goBin, append(args, "./cmd/pgcollector")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return out, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Env is the environment a pgcollector command runs in.
type Env struct {
	Bin  string
	Vars []string // KEY=VALUE, added to the inherited environment
}

// Run runs one command to completion and returns its exit code and output.
func (e Env) Run(ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	cmd := exec.CommandContext(ctx, e.Bin, args...)
	cmd.Env = append(os.Environ(), e.Vars...)
	cmd.Stdin = bytes.NewBufferString(stdin)
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	code = 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return code, o.String(), er.String()
}

// Process is a long-running pgcollector command.
type Process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

type lockedWriter struct{ p *Process }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Start starts a command in the background, capturing its output. When
// echo is not nil the output is copied there too.
func (e Env) Start(echo io.Writer, args ...string) (*Process, error) {
	p := &Process{done: make(chan error, 1)}
	p.cmd = exec.Command(e.Bin, args...)
	p.cmd.Env = append(os.Environ(), e.Vars...)
	var w io.Writer = lockedWriter{p}
	if echo != nil {
		w = io.MultiWriter(w, echo)
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- p.cmd.Wait() }()
	return p, nil
}

// Output returns everything the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Stop sends sig and waits up to limit for the process to exit. It returns
// the exit code and how long the exit took; it kills the process when the
// limit passes (code -1).
func (p *Process) Stop(sig syscall.Signal, limit time.Duration) (int, time.Duration) {
	start := time.Now()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), time.Since(start)
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return -1, time.Since(start)
	}
}
