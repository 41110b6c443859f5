package natstest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// writeConfig writes the node's configuration file: client, cluster and
// monitoring ports on 127.0.0.1, JetStream in its own store directory,
// and routes to every other node.
func writeConfig(n *Node, cluster string, peers []*Node) error {
	var routes []string
	for _, p := range peers {
		if p != n {
			routes = append(routes, fmt.Sprintf("    nats-route://127.0.0.1:%d", p.ClusterPort))
		}
	}
	conf := fmt.Sprintf(`# natstest node %[1]s of cluster %[2]s
server_name: %[1]s
listen: 127.0.0.1:%[3]d
http: 127.0.0.1:%[4]d
jetstream {
  store_dir: %[5]q
}
cluster {
  name: %[2]s
  listen: 127.0.0.1:%[6]d
  routes: [
%[7]s
  ]
}
`, n.Name, cluster, n.ClientPort, n.HTTPPort, n.StoreDir, n.ClusterPort, strings.Join(routes, "\n"))
	if err := os.MkdirAll(n.StoreDir, 0o750); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	if err := os.WriteFile(n.ConfigFile, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("node %s: write config: %w", n.Name, err)
	}
	return nil
}

// newNodes lays out count nodes under dir with free ports. Every listener
// is held open until all ports are chosen, so no port is handed out twice;
// another process may still take one before the server binds it, which
// then fails the server's start with the reason in its log.
func newNodes(dir, bin string, count int) ([]*Node, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	port := func() (int, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	nodes := make([]*Node, count)
	for i := range nodes {
		name := "n" + strconv.Itoa(i+1)
		n := &Node{
			Name:       name,
			StoreDir:   filepath.Join(dir, name, "jetstream"),
			ConfigFile: filepath.Join(dir, name, "nats-server.conf"),
			LogFile:    filepath.Join(dir, name, "nats-server.log"),
			bin:        bin,
		}
		var err error
		if n.ClientPort, err = port(); err != nil {
			return nil, err
		}
		if n.ClusterPort, err = port(); err != nil {
			return nil, err
		}
		if n.HTTPPort, err = port(); err != nil {
			return nil, err
		}
		nodes[i] = n
	}
	return nodes, nil
}
