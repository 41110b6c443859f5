package mcpserver_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// clusters are the datastores of the run, one per PostgreSQL major of
// PGC_TEST_PG_VERSIONS; every test runs on each, in a database of its own.
var clusters []*pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, v := range pgtest.Versions() {
		c, err := pgtest.StartCluster(ctx, pgtest.Options{Version: v})
		if err != nil {
			// No datastore, no test: say why and fail, never skip.
			fmt.Fprintf(os.Stderr, "mcpserver tests need PostgreSQL %d: %v\n", v, err)
			closeAll()
			return 1
		}
		clusters = append(clusters, c)
	}
	code := m.Run()
	closeAll()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

func closeAll() {
	for _, c := range clusters {
		_ = c.Close()
	}
}

// eachVersion runs fn as a subtest per datastore major.
func eachVersion(t *testing.T, fn func(t *testing.T, r *rig)) {
	for _, c := range clusters {
		t.Run("pg"+strconv.Itoa(c.Major), func(t *testing.T) { fn(t, newRig(t, c)) })
	}
}
