package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/natstest"
)

// scaleoutProcs runs pgcollector stages as separate OS processes of the
// built binary, the way a split deployment does: each with its own data
// directory (for the catalog cache) and its own output.
type scaleoutProcs struct {
	t   *testing.T
	c   *e2e.Collector
	dir string

	mu    sync.Mutex
	procs map[string]*e2e.Process // by name, the current run
	ended []string                // output of runs that were killed or replaced
}

func newScaleoutProcs(t *testing.T, c *e2e.Collector) *scaleoutProcs {
	s := &scaleoutProcs{t: t, c: c, dir: t.TempDir(), procs: map[string]*e2e.Process{}}
	t.Cleanup(s.stopAll)
	return s
}

// start runs `pgcollector run --stages stages` as process name.
func (s *scaleoutProcs) start(name, stages string) {
	s.t.Helper()
	env := s.c.Env
	env.Vars = append(append([]string{}, env.Vars...), "PGC_DATA_DIR="+filepath.Join(s.dir, name))
	s.mu.Lock()
	running := s.procs[name] != nil
	s.mu.Unlock()
	require.False(s.t, running, "%s is already running", name)
	p, err := env.Start(nil, "run", "--stages", stages)
	require.NoError(s.t, err, "start %s", name)
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
}

// kill ends process name with SIGKILL: no shutdown, nothing settled. The
// process is forgotten (a Process can be waited for only once) until
// start runs it again.
func (s *scaleoutProcs) kill(name string) {
	s.t.Helper()
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	require.NotNil(s.t, p, name)
	code, _ := p.Stop(syscall.SIGKILL, 10*time.Second)
	s.mu.Lock()
	s.ended = append(s.ended, fmt.Sprintf("--- %s (killed) ---\n%s", name, p.Output()))
	s.mu.Unlock()
	require.NotEqual(s.t, 0, code, "%s exited cleanly after SIGKILL", name)
}

// output is what process name printed in its current run.
func (s *scaleoutProcs) output(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[name].Output()
}

// names lists the current processes.
func (s *scaleoutProcs) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.procs {
		out = append(out, n)
	}
	return out
}

// stopAll stops every process with SIGTERM, which must end each of them
// cleanly (exit 0) within 20 s, and prints every output when the test
// failed or PGC_SCALEOUT_SHOW_OUTPUT=1.
func (s *scaleoutProcs) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	codes := map[string]int{}
	var cmu sync.Mutex
	for name, p := range s.procs {
		wg.Go(func() {
			code, _ := p.Stop(syscall.SIGTERM, 20*time.Second)
			cmu.Lock()
			codes[name] = code
			cmu.Unlock()
		})
	}
	wg.Wait()
	for name, code := range codes {
		if code != 0 {
			s.t.Errorf("%s exited %d after SIGTERM", name, code)
		}
	}
	if s.t.Failed() || os.Getenv("PGC_SCALEOUT_SHOW_OUTPUT") == "1" {
		for _, o := range s.ended {
			s.t.Log(o)
		}
		for name, p := range s.procs {
			s.t.Logf("--- %s ---\n%s", name, p.Output())
		}
	}
}

// scaleoutSamples counts the pg_stat_wal samples of each connection
// collected in [from, to).
func scaleoutSamples(t *testing.T, c *e2e.Collector, from, to time.Time) map[int64]int {
	t.Helper()
	type row struct {
		Conn int64
		N    int
	}
	out := map[int64]int{}
	for _, r := range e2e.Rows[row](t, c, `SELECT connection_id::bigint, count(*)::int FROM metrics.pg_stat_wal
		WHERE collected_at >= $1 AND collected_at < $2 GROUP BY 1`, from, to) {
		out[r.Conn] = r.N
	}
	return out
}

// scaleoutRequireNoDuplicates proves that nothing was stored twice: no two rows of
// metrics.pg_stat_wal share (connection_id, collected_at), and each
// connection has exactly as many rows as distinct pg_stat_wal batches in
// the ingest ledger (one row per run of this server-scoped probe; a batch
// id names its connection and slot, so a job run twice, or a batch
// delivered twice, would give a row without a batch of its own).
func scaleoutRequireNoDuplicates(t *testing.T, c *e2e.Collector, conns ...int64) {
	t.Helper()
	dups := e2e.Rows[string](t, c, `SELECT connection_id || ' at ' || collected_at || ': ' || count(*)
		FROM metrics.pg_stat_wal GROUP BY connection_id, collected_at HAVING count(*) > 1`)
	require.Empty(t, dups, "samples stored twice")
	for _, id := range conns {
		rows := e2e.Value[int](t, c, `SELECT count(*)::int FROM metrics.pg_stat_wal WHERE connection_id = $1`, id)
		batches := e2e.Value[int](t, c, `SELECT count(DISTINCT batch_id)::int FROM public.ingest_ledger
			WHERE batch_id LIKE $1 AND batch_id NOT LIKE '%!status'`, fmt.Sprintf("%d.pg_stat_wal.%%", id))
		require.Equal(t, batches, rows, "connection %d: rows of metrics.pg_stat_wal vs distinct batches in the ledger", id)
	}
}

// scaleoutRequireReconnects checks that every process that lost its NATS
// connection said so and said when it was back.
func scaleoutRequireReconnects(t *testing.T, s *scaleoutProcs) {
	t.Helper()
	for _, name := range s.names() {
		out := s.output(name)
		lost := strings.LastIndex(out, "NATS disconnected")
		if lost < 0 {
			continue
		}
		require.Contains(t, out[lost:], "NATS reconnected", "%s lost its NATS connection and did not log getting it back", name)
	}
}

// waitFor polls cond every half second until it holds or ctx ends.
func scaleoutWaitFor(ctx context.Context, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// scaleoutVictim picks the NATS node whose loss hurts most: the one most
// pgcollector processes are connected to, and makes it the leader of
// PGC_JOBS, PGC_BATCHES and their consumers, so that killing it costs
// those processes their connection and the pipeline every leader at once.
func scaleoutVictim(t *testing.T, cluster *natstest.Cluster) *natstest.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var victim *natstest.Node
	most := -1
	for _, n := range cluster.Nodes {
		clients, err := n.Clients(ctx, "pgcollector")
		require.NoError(t, err)
		if clients > most {
			victim, most = n, clients
		}
	}
	for _, l := range [][2]string{
		{bus.StreamJobs, ""}, {bus.StreamJobs, bus.ConsumerFetcher},
		{bus.StreamBatches, ""}, {bus.StreamBatches, bus.ConsumerSink},
	} {
		require.NoError(t, cluster.MoveLeader(ctx, l[0], l[1], victim))
	}
	t.Logf("NATS node %s has %d pgcollector clients and leads %s, %s and their consumers",
		victim.Name, most, bus.StreamJobs, bus.StreamBatches)
	return victim
}
