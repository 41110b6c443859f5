package obs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

type stateKey struct {
	conn  int64
	probe string
}

func loadConnections(ctx context.Context, q Querier) ([]*ConnectionStatus, error) {
	rows, err := q.Query(ctx, `SELECT id, name, coalesce(nullif(host, ''), hostaddr, ''), port, database_name,
		is_monitored, coalesce(connection_error, ''), created_at
		FROM public.connections ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read connections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ConnectionStatus, error) {
		c := &ConnectionStatus{}
		err := r.Scan(&c.ID, &c.Name, &c.Host, &c.Port, &c.Database, &c.Monitored, &c.ConnectionError, &c.createdAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read connections: %w", err)
	}
	return out, nil
}

func loadProbes(ctx context.Context, q Querier) ([]ProbeInfo, error) {
	rows, err := q.Query(ctx, `SELECT name, scope, collection_interval_seconds, is_enabled, updated_at
		FROM public.probes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read probes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProbeInfo, error) {
		var p ProbeInfo
		err := r.Scan(&p.Name, &p.Scope, &p.IntervalSeconds, &p.Enabled, &p.updatedAt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read probes: %w", err)
	}
	return out, nil
}

// loadStates reads probe_state and probe_availability, keyed by
// connection and probe, one row per database.
func loadStates(ctx context.Context, q Querier) (map[stateKey][]stateRow, error) {
	rows, err := q.Query(ctx, `SELECT connection_id, database_name, probe, s.last_success, coalesce(s.last_error, ''),
		s.last_error_at, a.available, coalesce(a.reason, ''), a.last_checked
		FROM public.probe_state s FULL JOIN public.probe_availability a USING (connection_id, database_name, probe)
		ORDER BY connection_id, probe, database_name`)
	if err != nil {
		return nil, fmt.Errorf("read probe state: %w", err)
	}
	out := map[stateKey][]stateRow{}
	var k stateKey
	var r stateRow
	_, err = pgx.ForEachRow(rows, []any{&k.conn, &r.Database, &k.probe, &r.LastSuccess, &r.LastError, &r.LastErrorAt,
		&r.Available, &r.Reason, &r.LastChecked}, func() error {
		out[k] = append(out[k], r)
		// Fresh pointers for the next row: pgx may scan into the old ones.
		r = stateRow{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read probe state: %w", err)
	}
	return out, nil
}

// loadConnectivity adds each connection's last pg_connectivity sample and
// its availability over the last 24 hours. Without the table (a datastore
// whose catalogue lacks the probe) there is nothing to add.
func loadConnectivity(ctx context.Context, q Querier, conns []*ConnectionStatus) error {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('metrics.pg_connectivity') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("read connectivity: %w", err)
	}
	if !exists || len(conns) == 0 {
		return nil
	}
	byID := map[int64]*ConnectionStatus{}
	for _, c := range conns {
		byID[c.ID] = c
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (connection_id) connection_id, up, collected_at, coalesce(error, ''),
		avg(up::int) OVER (PARTITION BY connection_id)::float8
		FROM metrics.pg_connectivity WHERE collected_at > now() - interval '24 hours'
		ORDER BY connection_id, collected_at DESC`)
	if err != nil {
		return fmt.Errorf("read connectivity: %w", err)
	}
	var id int64
	var up bool
	var at time.Time
	var upErr string
	var avail float64
	_, err = pgx.ForEachRow(rows, []any{&id, &up, &at, &upErr, &avail}, func() error {
		if c := byID[id]; c != nil {
			c.Up, c.UpCheckedAt, c.UpError, c.Availability24h = ptr(up), ptr(at), upErr, ptr(avail)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read connectivity: %w", err)
	}
	return nil
}
