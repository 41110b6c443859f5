package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProbeConfig is one row of public.probes: what runs, how often, for how
// long it is kept.
type ProbeConfig struct {
	Name               string
	Scope              string
	IntervalSeconds    int
	RetentionDays      int
	Enabled            bool
	Description        string
	StatementTimeoutMs int // 0: the fetcher's default
	LockTimeoutMs      int // 0: the fetcher's default
}

// Interval is the collection interval as a duration.
func (p ProbeConfig) Interval() time.Duration { return time.Duration(p.IntervalSeconds) * time.Second }

// ListProbes returns every probe row, ordered by name.
func ListProbes(ctx context.Context, q Querier) ([]ProbeConfig, error) {
	rows, err := q.Query(ctx, `SELECT name, scope, collection_interval_seconds, retention_days, is_enabled,
		coalesce(description, ''), coalesce(statement_timeout_ms, 0), coalesce(lock_timeout_ms, 0)
		FROM public.probes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list probes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProbeConfig, error) {
		var p ProbeConfig
		err := r.Scan(&p.Name, &p.Scope, &p.IntervalSeconds, &p.RetentionDays, &p.Enabled, &p.Description,
			&p.StatementTimeoutMs, &p.LockTimeoutMs)
		return p, err
	})
}

// ProbeChange is a partial update of a probe row; nil fields are kept.
type ProbeChange struct {
	IntervalSeconds    *int
	RetentionDays      *int
	Enabled            *bool
	StatementTimeoutMs *int
}

// SetProbe applies a change to one probe row.
func SetProbe(ctx context.Context, q Querier, name string, c ProbeChange) error {
	tag, err := q.Exec(ctx, `UPDATE public.probes SET
		collection_interval_seconds = coalesce($2, collection_interval_seconds),
		retention_days = coalesce($3, retention_days),
		is_enabled = coalesce($4, is_enabled),
		statement_timeout_ms = coalesce($5, statement_timeout_ms),
		updated_at = now()
		WHERE name = $1`, name, c.IntervalSeconds, c.RetentionDays, c.Enabled, c.StatementTimeoutMs)
	if err != nil {
		return fmt.Errorf("update probe %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("no probe named %q", name)
	}
	return nil
}
