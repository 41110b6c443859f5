package access

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// MaxSamples bounds one samples request: the metrics tables are large.
const MaxSamples = 1000

// Samples returns the newest limit rows of probe for connection id, newest
// first, each as a JSON object of the probe's stored columns: the rows as
// collected. A keyed probe (probes.Probe.Key) may be stored change-only
// (docs/storage.md): its table holds only the rows that changed plus
// marker rows, so it is read through metrics.<probe>_series, which gives
// every run in full; an object whose counters did not change is in every
// run, as the fetcher sent it.
func (s *Service) Samples(ctx context.Context, p Principal, id int64, probe string, limit int) ([]json.RawMessage, error) {
	if limit < 1 || limit > MaxSamples {
		return nil, invalid("limit", "must be 1..%d", MaxSamples)
	}
	if _, err := s.find(ctx, s.db, p, id); err != nil {
		return nil, err
	}
	// The name is checked against public.probes and quoted: it is never
	// spliced into SQL as given.
	pc, err := s.probe(ctx, probe)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	if def, known := probes.ByName(probe); known == nil && len(def.Key) > 0 {
		out, err = s.runSamples(ctx, def, id, time.Duration(pc.IntervalSeconds)*time.Second, limit)
	} else {
		// Stored in full: the table is the series.
		out, err = s.query(ctx, probe, `SELECT to_jsonb(t) FROM `+store.Table(probe)+` t
			WHERE connection_id = $1 ORDER BY collected_at DESC LIMIT $2`, id, limit)
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	return out, nil
}

// runSamples reads the newest limit rows of keyed probe def from its full
// runs. The series function rebuilds each run in its window from the
// run's chain, so the window starts at one interval before the newest run
// and grows, guided by the rows the last window gave, until it
// holds limit rows or reaches the oldest stored run: a small read costs
// about one run, a large one at most a few windows.
func (s *Service) runSamples(ctx context.Context, def probes.Probe, id int64, interval time.Duration,
	limit int) ([]json.RawMessage, error) {
	var newest, oldest *time.Time
	if err := s.db.QueryRow(ctx, `SELECT max(collected_at), min(collected_at) FROM `+store.Table(def.Name)+`
		WHERE connection_id = $1`, id).Scan(&newest, &oldest); err != nil {
		return nil, fmt.Errorf("read samples of %s: %w", def.Name, err)
	}
	if newest == nil {
		return nil, nil
	}
	order := []string{"s.collected_at DESC"}
	if def.Scope == probes.ScopeDatabase {
		order = append(order, "s.database_name")
	}
	for _, k := range def.Key {
		order = append(order, "s."+pgx.Identifier{k}.Sanitize())
	}
	// The marker column is the stored form's, not a collected value.
	sql := `SELECT to_jsonb(s) - '` + store.SampleKind + `' FROM ` + store.SeriesFunction(def.Name) +
		`($1, $2, $3::integer) s ORDER BY ` + strings.Join(order, ", ") + ` LIMIT $4`
	window := max(interval, time.Second)
	for {
		// (newest - window, newest]: a first window of one interval holds
		// the newest run of each database and not the run before it.
		from := newest.Add(-window + time.Microsecond)
		out, err := s.query(ctx, def.Name, sql, from, *newest, id, limit)
		if err != nil || len(out) >= limit || !from.After(*oldest) {
			return out, err
		}
		grow := 4 * window
		if len(out) > 0 {
			// 1.25 for runs that hold fewer rows than the ones seen.
			grow = max(2*window, time.Duration(float64(window)*float64(limit)/float64(len(out))*1.25))
		}
		// Past the oldest run the next window is the last.
		window = min(grow, newest.Sub(*oldest)+time.Second)
	}
}

func (s *Service) query(ctx context.Context, probe, sql string, args ...any) ([]json.RawMessage, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read samples of %s: %w", probe, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	if err != nil {
		return nil, fmt.Errorf("read samples of %s: %w", probe, err)
	}
	return out, nil
}
