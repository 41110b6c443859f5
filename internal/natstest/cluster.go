package natstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startTimeout bounds building the server and waiting for a new cluster
// to elect its meta leader.
const startTimeout = 2 * time.Minute

// Options shape a cluster.
type Options struct {
	// Nodes is the number of servers; 0 means 3, the smallest cluster
	// that survives losing one.
	Nodes int
	// Name is the cluster name; empty means "pgctest".
	Name string
	// Binary is a nats-server built earlier (by Build); empty builds one.
	Binary string
}

// Cluster is a running JetStream cluster of separate nats-server
// processes.
type Cluster struct {
	Nodes []*Node
	dir   string
}

// Start builds nats-server, starts the cluster and waits until every node
// is healthy. The test's cleanup stops the nodes and removes their files;
// the node logs are printed when the test failed.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := StartCluster(ctx, opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Nodes {
				t.Logf("natstest node %s log (tail):\n%s", n.Name, n.LogTail(40))
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("natstest: %v", err)
		}
	})
	return c
}

// StartCluster is Start for callers without a testing.TB; they call Close.
func StartCluster(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Name == "" {
		opts.Name = "pgctest"
	}
	dir, err := os.MkdirTemp("", "natstest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	fail := func(err error) (*Cluster, error) {
		return nil, errors.Join(err, c.Close())
	}
	bin := opts.Binary
	if bin == "" {
		if bin, err = Build(ctx, dir); err != nil {
			return fail(err)
		}
	}
	if c.Nodes, err = newNodes(dir, bin, opts.Nodes); err != nil {
		return fail(err)
	}
	for _, n := range c.Nodes {
		if err := writeConfig(n, opts.Name, c.Nodes); err != nil {
			return fail(err)
		}
	}
	for _, n := range c.Nodes {
		if err := n.start(); err != nil {
			return fail(err)
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return fail(err)
	}
	return c, nil
}

// Close kills every node and removes the cluster's files. The cluster is
// thrown away, so there is nothing to shut down gracefully.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Kill())
	}
	errs = append(errs, os.RemoveAll(c.dir))
	return errors.Join(errs...)
}

// URLs are the client URLs of all nodes, running or not: what a client
// configured for the cluster would list.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.URL()
	}
	return out
}

// URL is URLs joined with commas, the form of PGC_NATS_URL.
func (c *Cluster) URL() string { return strings.Join(c.URLs(), ",") }

// WaitHealthy waits until every running node is healthy.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	for _, n := range c.Nodes {
		if !n.Running() {
			continue
		}
		if err := n.WaitHealthy(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Node returns the node called name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Leader returns the node leading stream, or its consumer when consumer
// is not empty, as the cluster reports it now.
func (c *Cluster) Leader(ctx context.Context, stream, consumer string) (*Node, error) {
	var urls []string
	for _, n := range c.Nodes {
		if n.Running() {
			urls = append(urls, n.URL())
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Name("natstest"))
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var info *jetstream.ClusterInfo
	if consumer == "" {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", stream, err)
		}
		info = s.CachedInfo().Cluster
	} else {
		cons, err := js.Consumer(ctx, stream, consumer)
		if err != nil {
			return nil, fmt.Errorf("consumer %s > %s: %w", stream, consumer, err)
		}
		info = cons.CachedInfo().Cluster
	}
	if info == nil || info.Leader == "" {
		return nil, fmt.Errorf("%s %s has no leader now", stream, consumer)
	}
	if n := c.Node(info.Leader); n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("leader %q is not a node of this cluster", info.Leader)
}
