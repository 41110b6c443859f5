package sinktest

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/probes"
	"github.com/pgcollector/pgcollector/sink"
)

// Sink is one sink process writing to a datastore with the default
// settings: PGC_SINK_DEDUP on.
type Sink struct {
	t    testing.TB
	in   *sink.Ingester
	slot int64
}

// New starts nothing: it builds the sink's ingest path over pool.
func New(t testing.TB, pool *pgxpool.Pool) *Sink {
	t.Helper()
	cfg := config.Default[sink.Config]()
	require.True(t, cfg.Dedup, "change-only storage is the default")
	in, err := sink.NewIngester(cfg, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	require.NoError(t, err)
	return &Sink{t: t, in: in}
}

// Tables stores one run of pg_stat_all_tables on database db of
// connection conn at at, as the fetcher sends it: one row per table of
// tables (relid → counter), table "t<relid>" in schema public, every
// counter column set from the table's counter.
func (s *Sink) Tables(conn int64, db string, at time.Time, tables map[int64]int64) {
	s.t.Helper()
	p, err := probes.ByName("pg_stat_all_tables")
	require.NoError(s.t, err)
	relids := make([]int64, 0, len(tables))
	for k := range tables {
		relids = append(relids, k)
	}
	sort.Slice(relids, func(i, j int) bool { return relids[i] < relids[j] })
	cols := p.StoredColumns()
	var data strings.Builder
	for _, relid := range relids {
		fields := make([]string, len(cols))
		for i, c := range cols {
			fields[i] = field(c, conn, db, at, relid, tables[relid])
		}
		data.WriteString(strings.Join(fields, "\t") + "\n")
	}
	s.slot++
	b := bus.Batch{ID: bus.BatchID(conn, p.Name, s.slot, db), Kind: bus.KindRows, ConnectionID: conn, Probe: p.Name,
		Database: db, CollectedAt: at, Parts: 1, Rows: len(relids), Columns: p.StoredColumnNames(), Data: []byte(data.String())}
	_, err = s.in.Ingest(s.t.Context(), []bus.Batch{b})
	require.NoError(s.t, err)
}

// field is column c of a table's row in COPY text.
func field(c probes.Column, conn int64, db string, at time.Time, relid, counter int64) string {
	switch c.Name {
	case "connection_id":
		return fmt.Sprint(conn)
	case "collected_at":
		return at.UTC().Format("2006-01-02 15:04:05.999999Z07")
	case "database_name":
		return db
	case "relid":
		return fmt.Sprint(relid)
	case "schemaname":
		return "public"
	case "relname":
		return fmt.Sprintf("t%d", relid)
	}
	switch c.Type {
	case "bigint", "integer", "numeric", "double precision":
		return fmt.Sprint(counter)
	default:
		return `\N`
	}
}
