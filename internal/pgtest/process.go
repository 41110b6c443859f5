package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/internal/procinfo"
)

// stopTimeout bounds a fast shutdown before it is turned into a kill.
const stopTimeout = 30 * time.Second

// postmaster is one run of the server process, from spawn to exit.
type postmaster struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait's result, valid after done
}

// spawn starts cmd as a postmaster that dies with this process. Pdeathsig
// fires when the thread that forked the child exits, not the process, so
// the fork and the wait happen on one goroutine locked to its thread: that
// thread then lives exactly as long as the server (golang/go#27505).
func spawn(cmd *exec.Cmd) (*postmaster, error) {
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	pm := &postmaster{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(pm.done)
		if err := cmd.Start(); err != nil {
			pm.err = err
			started <- err
			return
		}
		started <- nil
		pm.err = cmd.Wait()
	}()
	if err := <-started; err != nil {
		<-pm.done
		return nil, fmt.Errorf("spawn %s: %w", cmd.Path, err)
	}
	return pm, nil
}

// exited reports whether the process has ended.
func (pm *postmaster) exited() bool {
	select {
	case <-pm.done:
		return true
	default:
		return false
	}
}

// stop asks for a fast shutdown (SIGINT, what pg_ctl stop -m fast sends),
// which ends all sessions and checkpoints, and waits for it. A server that
// does not stop in time is killed, so stop never leaves a process behind.
func (pm *postmaster) stop() error {
	if pm.exited() {
		return nil
	}
	if err := pm.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return errors.Join(fmt.Errorf("signal postmaster: %w", err), pm.kill())
	}
	select {
	case <-pm.done:
		return nil
	case <-time.After(stopTimeout):
		return errors.Join(fmt.Errorf("fast shutdown took over %s", stopTimeout), pm.kill())
	}
}

// kill SIGKILLs the postmaster and every process it forked, then waits until
// they are gone. Killing only the postmaster is not enough: its children
// linger until they notice, still attached to the shared memory that makes
// a new postmaster on the same data dir refuse to start. A process group
// kill does not reach them because each child calls setsid().
func (pm *postmaster) kill() error {
	if pm.exited() {
		return nil
	}
	pid := pm.cmd.Process.Pid
	// Freezing the postmaster first means it cannot fork a child after the
	// children are listed.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	children := childrenOf(pid)
	for _, child := range children {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	_ = pm.cmd.Process.Kill()
	deadline := time.Now().Add(stopTimeout)
	select {
	case <-pm.done:
	case <-time.After(stopTimeout):
		return fmt.Errorf("postmaster %d still running %s after SIGKILL", pid, stopTimeout)
	}
	for _, child := range children {
		for alive(child) {
			if time.Now().After(deadline) {
				return fmt.Errorf("server process %d still running after SIGKILL", child)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	children, _ := procinfo.Children(pid)
	out := make([]int, 0, len(children))
	for _, c := range children {
		out = append(out, c.PID)
	}
	return out
}

// alive reports whether pid still exists as more than a zombie; a zombie
// has already released its shared memory.
func alive(pid int) bool { return procinfo.Alive(pid) }
