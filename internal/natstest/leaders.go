package natstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A fault test is only as strong as the node it takes away. These helpers
// let it choose: the node most clients are connected to, made leader of
// the streams and consumers that matter, so that one kill costs clients
// their connection and the cluster its leaders at once.

// Clients counts the client connections of the node whose name (the
// nats.Name option) is name, from the node's /connz.
func (n *Node) Clients(ctx context.Context, name string) (int, error) {
	url := "http://127.0.0.1:" + strconv.Itoa(n.HTTPPort) + "/connz?limit=1024"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("node %s: connz: %w", n.Name, err)
	}
	defer resp.Body.Close()
	var connz struct {
		Conns []struct {
			Name string `json:"name"`
		} `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&connz); err != nil {
		return 0, fmt.Errorf("node %s: connz: %w", n.Name, err)
	}
	count := 0
	for _, c := range connz.Conns {
		if c.Name == name {
			count++
		}
	}
	return count, nil
}

// MoveLeader makes node to the leader of stream, or of its consumer when
// consumer is not empty, by asking the current leader to step down in its
// favour, and waits until the cluster reports the move.
func (c *Cluster) MoveLeader(ctx context.Context, stream, consumer string, to *Node) error {
	subject := "$JS.API.STREAM.LEADER.STEPDOWN." + stream
	what := stream
	if consumer != "" {
		subject = "$JS.API.CONSUMER.LEADER.STEPDOWN." + stream + "." + consumer
		what += " > " + consumer
	}
	nc, err := nats.Connect(to.URL(), nats.Name("natstest"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", to.Name, err)
	}
	defer nc.Close()
	body, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": to.Name}})
	for {
		leader, err := c.Leader(ctx, stream, consumer)
		if err == nil && leader == to {
			return nil
		}
		if err == nil {
			msg, err := nc.RequestWithContext(ctx, subject, body)
			if err != nil {
				return fmt.Errorf("step down %s: %w", what, err)
			}
			var resp struct {
				Error *jetstream.APIError `json:"error"`
			}
			_ = json.Unmarshal(msg.Data, &resp)
			if resp.Error != nil && !strings.Contains(resp.Error.Description, "already leader") {
				return fmt.Errorf("step down %s in favour of %s: %w", what, to.Name, resp.Error)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("move leader of %s to %s: %w", what, to.Name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitOffline waits until the meta leader counts node as offline, which it
// does some seconds after the node went away: from then on it places no
// new replicated stream on it.
func (c *Cluster) WaitOffline(ctx context.Context, node *Node) error {
	for {
		for _, n := range c.Nodes {
			if n != node && n.Running() && n.reportsOffline(ctx, node.Name) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no node reports %s offline: %w", node.Name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// reportsOffline reads the meta group's view of peer from n's /jsz.
func (n *Node) reportsOffline(ctx context.Context, peer string) bool {
	url := "http://127.0.0.1:" + strconv.Itoa(n.HTTPPort) + "/jsz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var jsz struct {
		Meta struct {
			Replicas []struct {
				Name    string `json:"name"`
				Offline bool   `json:"offline"`
			} `json:"replicas"`
		} `json:"meta_cluster"`
	}
	if json.NewDecoder(resp.Body).Decode(&jsz) != nil {
		return false
	}
	for _, r := range jsz.Meta.Replicas {
		if r.Name == peer && r.Offline {
			return true
		}
	}
	return false
}
