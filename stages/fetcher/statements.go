package fetcher

import (
	"sync"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/probes"
)

// statements keeps the text each probe run sends, built once per distinct
// input instead of on every run: the top-N rewrite is a regular expression
// over a query of up to ~4 KB, and with the COPY wrapping it was 3 % of
// the collector's allocations in `make bench`, garbage the collector then
// had to make room for. The texts are few (probes × versions × the adapted
// queries of availabilityCache), so the map is cleared when it passes
// maxStatements rather than kept in order.
type statements struct {
	mu sync.Mutex
	m  map[stmtKey]builtStatement
}

// stmtKey is everything a run's statement is made of.
type stmtKey struct {
	sql                      string // the probe's query for the version, or the one made for its source's columns
	probe                    string
	v15                      bool // version ≥ 15 (stats_fetch_consistency, beginFor)
	topN, cap                int
	stmtTimeout, lockTimeout int // the probe's own timeouts, ms
}

type builtStatement struct {
	sql  string // the query with its top-N set, before the object cap (checkCap counts with it)
	copy string // what the server is sent (ProbeStatement)
}

const maxStatements = 4096

// get returns the statement of one run of p with query sql.
func (s *statements) get(p probes.Probe, pc catalog.ProbeConfig, version int, sql string, topN, limit int) builtStatement {
	k := stmtKey{sql, p.Name, version >= 150000, topN, limit, pc.StatementTimeoutMs, pc.LockTimeoutMs}
	s.mu.Lock()
	b, ok := s.m[k]
	s.mu.Unlock()
	if ok {
		return b
	}
	b.sql = probes.WithTopN(sql, topN)
	b.copy = ProbeStatement(p, pc, version, p.WithMaxObjects(b.sql, limit))
	s.mu.Lock()
	if s.m == nil || len(s.m) >= maxStatements {
		s.m = make(map[stmtKey]builtStatement)
	}
	s.m[k] = b
	s.mu.Unlock()
	return b
}
