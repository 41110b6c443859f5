package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
)

// SimProcess is the fleet simulator running as its own process (this
// program again, `fleet fleetsim <config>`), so that its CPU is its own
// and is never counted as the collector's.
type SimProcess struct {
	Host      string
	Port      int
	StatsAddr string
	cmd       *exec.Cmd
}

// StartSim starts the simulator with cfg and waits for its address.
func StartSim(ctx context.Context, self string, cfg fleetsim.Config, dir string) (*SimProcess, error) {
	var err error
	if cfg.StatsAddr, err = FreeAddr(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "fleetsim.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "fleetsim.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(self, "fleetsim", file)
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("fleetsim did not start: %v (log: %s)", err, logf.Name())
	}
	sp := &SimProcess{StatsAddr: cfg.StatsAddr, cmd: cmd}
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "listening %s %d", &sp.Host, &sp.Port); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("fleetsim said %q: %w", line, err)
	}
	return sp, nil
}

// Pid is the simulator's process id.
func (s *SimProcess) Pid() int { return s.cmd.Process.Pid }

// Stats reads the simulator's counters.
func (s *SimProcess) Stats(ctx context.Context) (fleetsim.StatsSnapshot, error) {
	var st fleetsim.StatsSnapshot
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.StatsAddr+"/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Stop ends the simulator.
func (s *SimProcess) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
