package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestClusterSurvivesLosingANode checks the harness itself: three separate
// nats-server processes form one JetStream cluster, a replicated stream
// keeps taking messages when its leader is killed, and the killed node
// comes back with the messages it missed; a graceful stop and restart
// works the same way.
func TestClusterSurvivesLosingANode(t *testing.T) {
	c := Start(t, Options{})
	require.Len(t, c.Nodes, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3})
	require.NoError(t, err)

	publish := func(from, to int) {
		for i := from; i < to; i++ {
			// A leader election or a reconnect makes a publish time out;
			// the message id makes the retry safe.
			require.Eventually(t, func() bool {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				_, err := js.Publish(pctx, "t.x", []byte("m"), jetstream.WithMsgID(fmt.Sprint(i)))
				return err == nil
			}, 30*time.Second, 100*time.Millisecond, "publish %d", i)
		}
	}
	messages := func() uint64 {
		var n uint64
		require.Eventually(t, func() bool {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			s, err := js.Stream(sctx, "T")
			if err == nil {
				n = s.CachedInfo().State.Msgs
			}
			return err == nil
		}, 30*time.Second, 100*time.Millisecond)
		return n
	}
	publish(0, 10)

	leader, err := c.Leader(ctx, "T", "")
	require.NoError(t, err)
	require.NoError(t, leader.Kill())
	require.False(t, leader.Running())
	publish(10, 20)
	require.EqualValues(t, 20, messages())

	require.NoError(t, leader.Restart(ctx))
	require.NoError(t, c.WaitHealthy(ctx))
	other := c.Nodes[0]
	if other == leader {
		other = c.Nodes[1]
	}
	require.NoError(t, other.Stop())
	publish(20, 30)
	require.NoError(t, other.Restart(ctx))
	require.EqualValues(t, 30, messages())
}
