package access

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// ListProbes returns every probe's settings; any user may read them.
func (s *Service) ListProbes(ctx context.Context) ([]catalog.ProbeConfig, error) {
	return catalog.ListProbes(ctx, s.db)
}

// SetProbe changes a probe's settings. Probes are fleet-wide (one
// interval for every connection), so only an admin may change them.
func (s *Service) SetProbe(ctx context.Context, p Principal, name string, c catalog.ProbeChange) error {
	if !p.IsAdmin {
		return ErrForbidden
	}
	switch {
	case c.IntervalSeconds != nil && (*c.IntervalSeconds < 1 || *c.IntervalSeconds > 86400):
		return invalid("interval_seconds", "must be 1..86400")
	case c.RetentionDays != nil && (*c.RetentionDays < 1 || *c.RetentionDays > 3650):
		return invalid("retention_days", "must be 1..3650")
	case c.StatementTimeoutMs != nil && *c.StatementTimeoutMs < 1:
		return invalid("statement_timeout_ms", "must be positive")
	case c == catalog.ProbeChange{}:
		return invalid("body", "nothing to change")
	}
	if _, err := s.probe(ctx, name); err != nil {
		return err
	}
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := catalog.SetProbe(ctx, tx, name, c); err != nil {
			return err
		}
		return audit(ctx, tx, p.Actor(), "probe.set", "probe:"+name, map[string]any{"change": c})
	})
}

func (s *Service) probe(ctx context.Context, name string) (catalog.ProbeConfig, error) {
	ps, err := catalog.ListProbes(ctx, s.db)
	if err != nil {
		return catalog.ProbeConfig{}, err
	}
	for _, pc := range ps {
		if pc.Name == name {
			return pc, nil
		}
	}
	return catalog.ProbeConfig{}, fmt.Errorf("probe %q: %w", name, ErrNotFound)
}

// Status is the health of connection id, the same data as one connection
// of `pgcollector status --json`.
func (s *Service) Status(ctx context.Context, p Principal, id int64) (obs.ConnectionStatus, error) {
	if _, err := s.find(ctx, s.db, p, id); err != nil {
		return obs.ConnectionStatus{}, err
	}
	f, err := obs.LoadFleet(ctx, s.db, time.Now())
	if err != nil {
		return obs.ConnectionStatus{}, err
	}
	for _, c := range f.Connections {
		if c.ID == id {
			return c, nil
		}
	}
	return obs.ConnectionStatus{}, fmt.Errorf("connection %d: %w", id, ErrNotFound)
}
