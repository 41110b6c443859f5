package natstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

func TestExplore(t *testing.T) {
	for round := 0; round < 2; round++ {
		c := Start(t, Options{})
		require.NoError(t, c.Nodes[2].Stop())
		nc, err := nats.Connect(c.Nodes[0].URL() + "," + c.Nodes[1].URL())
		require.NoError(t, err)
		for i := 0; i < 3; i++ {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			name := fmt.Sprintf("S%d", i)
			m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.CREATE."+name, []byte(`{"name":"`+name+`","subjects":["`+name+`"],"num_replicas":3,"storage":"file"}`))
			cancel()
			if err != nil {
				t.Logf("%s %s: err %v", name, time.Since(start).Round(time.Millisecond), err)
				continue
			}
			t.Logf("%d %s %s: %.150s", round, name, time.Since(start).Round(time.Millisecond), m.Data)
		}
		nc.Close()
		c.Close()
	}
}
