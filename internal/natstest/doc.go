// Package natstest runs real NATS JetStream clusters for tests: the
// nats-server binary built from the Go module this repository already
// depends on (so no download and no internet), started as separate OS
// processes on free 127.0.0.1 ports, each node with its own store
// directory, joined into one cluster by routes. A test can stop, kill and
// restart single nodes to see what the collector does when the cluster
// loses a member.
//
// The servers are children of the test binary and die with it (Pdeathsig),
// even when a test panics or times out; Start ties a cluster to a test and
// its cleanup stops every node and removes its files.
package natstest
