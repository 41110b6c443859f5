package natstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/internal/procinfo"
)

// stopTimeout bounds a graceful shutdown before it becomes a kill.
const stopTimeout = 30 * time.Second

// Node is one nats-server process of a Cluster. Its ports and store
// directory stay the same across restarts, so clients and routes find it
// again and it recovers its streams from disk.
type Node struct {
	Name        string
	ClientPort  int
	ClusterPort int
	HTTPPort    int // monitoring: /healthz, /varz, /jsz
	StoreDir    string
	ConfigFile  string
	LogFile     string

	bin string
	mu  sync.Mutex
	run *process // nil while the node is down
}

// URL is the node's client URL.
func (n *Node) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(n.ClientPort) }

// Running reports whether the node's process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.run != nil && !n.run.exited()
}

// process is one run of nats-server, from spawn to exit.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start spawns the server; it does not wait for it to be ready.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.run != nil && !n.run.exited() {
		return fmt.Errorf("node %s is already running", n.Name)
	}
	logf, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %s: open log: %w", n.Name, err)
	}
	cmd := exec.Command(n.bin, "-c", n.ConfigFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := spawn(cmd)
	_ = logf.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	n.run = p
	return nil
}

// spawn starts cmd as a child that dies with this process. Pdeathsig
// fires when the thread that forked the child exits, not the process, so
// the fork and the wait happen on one goroutine locked to its thread
// (golang/go#27505), as internal/pgtest does for postmasters.
func spawn(cmd *exec.Cmd) (*process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(p.done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		<-p.done
		return nil, fmt.Errorf("spawn %s: %w", cmd.Path, err)
	}
	return p, nil
}

// Stop shuts the node down gracefully (SIGTERM): it hands over its
// leaderships and flushes its store. A node that does not exit within 30 s
// is killed. Stopping a stopped node does nothing.
func (n *Node) Stop() error {
	return n.signal(syscall.SIGTERM, stopTimeout)
}

// Kill ends the node with SIGKILL, as a crash or a lost machine would: no
// leadership hand-over, nothing flushed.
func (n *Node) Kill() error {
	return n.signal(syscall.SIGKILL, stopTimeout)
}

func (n *Node) signal(sig syscall.Signal, limit time.Duration) error {
	n.mu.Lock()
	p := n.run
	n.run = nil
	n.mu.Unlock()
	if p == nil || p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("node %s: signal %s: %w", n.Name, sig, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(limit):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("node %s: did not exit within %s of %s; killed", n.Name, limit, sig)
	case <-time.After(limit):
		return fmt.Errorf("node %s: still running %s after SIGKILL", n.Name, limit)
	}
}

// Freeze stops the node's process (SIGSTOP) without closing its sockets,
// as a hung machine or a network partition would: clients and peers see
// no error, only silence, until their pings time out. Thaw resumes it.
func (n *Node) Freeze() error { return n.pause(syscall.SIGSTOP) }

// Thaw resumes a frozen node (SIGCONT).
func (n *Node) Thaw() error { return n.pause(syscall.SIGCONT) }

func (n *Node) pause(sig syscall.Signal) error {
	n.mu.Lock()
	p := n.run
	n.mu.Unlock()
	if p == nil || p.exited() {
		return fmt.Errorf("node %s is not running", n.Name)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("node %s: signal %s: %w", n.Name, sig, err)
	}
	if sig == syscall.SIGSTOP {
		return waitStopped(n.Name, p.cmd.Process.Pid)
	}
	return nil
}

// waitStopped waits until every thread of pid is stopped. kill(2) only
// queues SIGSTOP: on a busy machine a thread of the node can still answer
// a client for a moment after Freeze would otherwise have returned, and a
// test that sends right after the freeze would see a frozen node reply.
func waitStopped(name string, pid int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		running, err := runningThreads(pid)
		if err == nil && running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s: %d threads still running 5 s after SIGSTOP (%v)", name, running, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runningThreads counts the threads of pid not in the stopped state.
func runningThreads(pid int) (int, error) {
	threads, err := procinfo.Threads(pid)
	if err != nil {
		return 0, err
	}
	running := 0
	for _, t := range threads {
		if t.State != "T" {
			running++
		}
	}
	return running, nil
}

// Restart starts a stopped or killed node again with the same ports and
// store, and waits until it is healthy: back in the cluster, with its
// streams caught up.
func (n *Node) Restart(ctx context.Context) error {
	if err := n.start(); err != nil {
		return err
	}
	return n.WaitHealthy(ctx)
}

// WaitHealthy polls the node's /healthz until it answers 200, which a
// clustered JetStream server does once it knows the meta leader and its
// stream and consumer replicas are current.
func (n *Node) WaitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://127.0.0.1:" + strconv.Itoa(n.HTTPPort) + "/healthz"
	var last string
	for {
		if !n.Running() {
			return fmt.Errorf("node %s exited; log:\n%s", n.Name, n.LogTail(30))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body := make([]byte, 512)
			k, _ := resp.Body.Read(body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body[:k])))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s not healthy (%s): %w; log:\n%s", n.Name, last, ctx.Err(), n.LogTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LogTail returns the last lines of the node's log, for failure messages.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
