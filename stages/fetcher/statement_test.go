package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/pgtest"
	"github.com/pgcollector/pgcollector/probes"
)

// TestProbeStatementTransaction runs what copyOut sends, with the probe's
// query replaced by one that shows the transaction's settings, on the
// oldest and newest server: snapshot probes and per-probe timeouts get
// their transaction and SET LOCALs in the one message, the settings do not
// outlive it, and a timeout still cancels the COPY.
func TestProbeStatementTransaction(t *testing.T) {
	versions := pgtest.Versions()
	for _, major := range []int{versions[0], versions[len(versions)-1]} {
		t.Run(fmt.Sprintf("pg%d", major), func(t *testing.T) {
			t.Parallel()
			c := pgtest.Start(t, pgtest.Options{Version: major})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			conn, err := pgx.Connect(ctx, c.DSN("postgres"))
			require.NoError(t, err)
			defer conn.Close(ctx)
			pg := conn.PgConn()
			fetchConsistency := "'n/a'"
			if c.Version >= 150000 {
				fetchConsistency = "current_setting('stats_fetch_consistency')"
			}
			show := "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), " +
				"current_setting('statement_timeout'), current_setting('lock_timeout'), " + fetchConsistency
			run := func(p probes.Probe, pc catalog.ProbeConfig, sql string) (string, error) {
				var out bytes.Buffer
				_, err := pg.CopyTo(ctx, &out, ProbeStatement(p, pc, c.Version, sql))
				return out.String(), err
			}
			snapshot := probes.Probe{Scope: probes.ScopeDatabase, Snapshot: true}
			plain := probes.Probe{Scope: probes.ScopeServer}
			want := "postgres\trepeatable read\ton\t0\t0\tsnapshot\n"
			if c.Version < 150000 {
				want = "postgres\trepeatable read\ton\t0\t0\tn/a\n"
			}

			out, err := run(snapshot, catalog.ProbeConfig{}, show)
			require.NoError(t, err)
			require.Equal(t, want, out, "snapshot probe")
			require.Equal(t, byte('I'), pg.TxStatus(), "committed")

			out, err = run(plain, catalog.ProbeConfig{StatementTimeoutMs: 1500, LockTimeoutMs: 700}, show)
			require.NoError(t, err)
			require.Regexp(t, `^read committed\ton\t1500ms\t700ms\t`, out, "timeouts of the probe")

			out, err = run(plain, catalog.ProbeConfig{}, show)
			require.NoError(t, err)
			require.Regexp(t, `^read committed\toff\t0\t0\t`, out, "no transaction, and nothing left of the last one")

			_, err = run(plain, catalog.ProbeConfig{StatementTimeoutMs: 50}, "SELECT pg_catalog.pg_sleep(5)")
			var pgErr *pgconn.PgError
			require.True(t, errors.As(err, &pgErr), "%v", err)
			require.Equal(t, "57014", pgErr.Code, "canceled by the probe's statement_timeout")
		})
	}
}
