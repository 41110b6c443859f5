package sink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
)

// TestPlanConnectionState: within a flush the newest batch of a connection
// decides; plain probe failures say nothing about the connection.
func TestPlanConnectionState(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	connErr := func(conn int64, at time.Time, reason string) *item {
		return &item{b: bus.Batch{ID: "x", Kind: bus.KindStatus, ConnectionID: conn, Probe: "t_server",
			CollectedAt: at, Parts: 1, Reason: reason, ConnectionError: true}}
	}
	probeErr := &item{b: bus.Batch{ID: "y", Kind: bus.KindStatus, ConnectionID: 3, Probe: "t_server",
		CollectedAt: t0.Add(time.Hour), Parts: 1, Reason: "division by zero"}}
	rows := func(conn int64, at time.Time) *item { b := serverBatch(conn, 1, at, 1); return &item{b: b} }
	p := makePlan([]*item{
		connErr(1, t0, "refused"), rows(1, t0.Add(time.Second)), // recovered
		rows(2, t0), connErr(2, t0.Add(time.Second), "tls"), // failed
		connErr(3, t0, "password"), probeErr, // still failing
	}, map[string]*recorded{}, map[stateKey]snapshot{})
	require.Equal(t, map[int64]connState{
		1: {at: t0.Add(time.Second)},
		2: {err: "tls", at: t0.Add(time.Second)},
		3: {err: "password", at: t0},
	}, p.conns)
}

// TestConnectionErrorRecordedAndCleared runs the sink: a connection-level
// failure is written to connections.connection_error, a later rows batch
// clears it, and the other connection is untouched throughout.
func TestConnectionErrorRecordedAndCleared(t *testing.T) {
	e := newEnv(t, catalogue)
	e.start(testConfig(), nil)
	now := time.Now().UTC().Truncate(time.Second)
	e.publish(bus.Batch{ID: bus.BatchID(1, "t_server", 1, "") + "!status", Kind: bus.KindStatus, ConnectionID: 1,
		Probe: "t_server", CollectedAt: now, Reason: "dial tcp 127.0.0.1:1: connect: connection refused",
		ConnectionError: true}, serverBatch(2, 1, now, 1))
	e.eventually(1, `SELECT count(*) FROM connections WHERE id = 1 AND connection_error LIKE '%connection refused'`)
	e.settled()
	require.Equal(t, 0, e.count(`SELECT count(*) FROM connections WHERE id = 2 AND connection_error IS NOT NULL`))

	e.publish(serverBatch(1, 2, now.Add(time.Minute), 1))
	e.eventually(0, `SELECT count(*) FROM connections WHERE connection_error IS NOT NULL`)
}
