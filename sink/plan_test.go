package sink

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"

	"github.com/pgcollector/pgcollector/internal/config"
)

var t0 = time.Date(2026, 3, 9, 10, 0, 0, 123456789, time.UTC)

func rows(id string, part, parts int, collected time.Time) *item {
	return &item{b: bus.Batch{ID: id, Kind: bus.KindRows, ConnectionID: 1, Probe: "p", CollectedAt: collected,
		Part: part, Parts: parts, Columns: []string{"connection_id", "collected_at"}, Data: []byte("x\n")}}
}

func tracked(id string, part, parts int, collected time.Time, hash string) *item {
	it := rows(id, part, parts, collected)
	it.b.Hash = hash
	return it
}

// stored lists the ids and parts a plan copies, in delivery order.
func stored(p *plan) []string {
	var out []string
	for _, g := range p.groups {
		for _, it := range g {
			out = append(out, fmt.Sprintf("%s#%d", it.b.ID, it.b.Part))
		}
	}
	return out
}

func TestPlanLedger(t *testing.T) {
	tests := []struct {
		name       string
		ledger     map[string]*recorded
		items      []*item
		stored     []string
		duplicates int
	}{
		{"new batch", nil, []*item{rows("a", 0, 1, t0)}, []string{"a#0"}, 0},
		{"part already recorded", map[string]*recorded{"a": {at: at(rows("a", 0, 1, t0).b), parts: map[int]bool{0: true}}},
			[]*item{rows("a", 0, 2, t0), rows("a", 1, 2, t0)}, []string{"a#1"}, 1},
		{"ledger time has microseconds only", map[string]*recorded{"a": {at: t0.Round(time.Microsecond), parts: map[int]bool{0: true}}},
			[]*item{rows("a", 1, 2, t0)}, []string{"a#1"}, 0},
		{"second run of the slot is dropped", map[string]*recorded{"a": {at: t0.Round(time.Microsecond), parts: map[int]bool{0: true}}},
			[]*item{rows("a", 0, 2, t0.Add(time.Second)), rows("a", 1, 2, t0.Add(time.Second))}, nil, 2},
		{"duplicate within the flush", nil, []*item{rows("a", 0, 1, t0), rows("a", 0, 1, t0)}, []string{"a#0"}, 1},
		{"two runs within the flush keep the first", nil,
			[]*item{rows("a", 0, 2, t0), rows("a", 0, 2, t0.Add(time.Minute)), rows("a", 1, 2, t0)}, []string{"a#0", "a#1"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ledger := tc.ledger
			if ledger == nil {
				ledger = map[string]*recorded{}
			}
			p := makePlan(tc.items, ledger, map[stateKey]snapshot{})
			require.Equal(t, tc.stored, stored(p))
			require.Equal(t, tc.duplicates, p.duplicates)
			require.Len(t, p.ledger, len(tc.stored))
		})
	}
}

func TestPlanSnapshots(t *testing.T) {
	k := stateKey{1, "", "p"}
	t1, t2 := t0, t0.Add(time.Hour)
	last := map[stateKey]snapshot{k: {hash: "h1", at: at(tracked("x", 0, 1, t1, "").b)}}
	tests := []struct {
		name      string
		items     []*item
		stored    []string
		unchanged int
		state     *snapshot
	}{
		{"unchanged", []*item{tracked("b", 0, 1, t2, "h1")}, nil, 1, nil},
		{"changed", []*item{tracked("b", 0, 1, t2, "h2")}, []string{"b#0"}, 0, &snapshot{"h2", t2.Round(time.Microsecond)}},
		{"later part of the stored run", []*item{tracked("a", 1, 2, t1, "h1")}, []string{"a#1"}, 0, nil},
		{"change then back within a flush",
			[]*item{tracked("b", 0, 1, t2, "h2"), tracked("c", 0, 1, t2.Add(time.Hour), "h2"), tracked("d", 0, 1, t2.Add(2*time.Hour), "h1")},
			[]string{"b#0", "d#0"}, 1, &snapshot{"h1", t2.Add(2 * time.Hour).Round(time.Microsecond)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snaps := map[stateKey]snapshot{}
			for k, v := range last {
				snaps[k] = v
			}
			p := makePlan(tc.items, map[string]*recorded{}, snaps)
			require.ElementsMatch(t, tc.stored, stored(p))
			require.Equal(t, tc.unchanged, p.unchanged)
			require.Len(t, p.ledger, len(tc.items), "unchanged snapshots are recorded in the ledger too")
			if tc.state == nil {
				require.Empty(t, p.snapshots)
			} else {
				require.Equal(t, *tc.state, p.snapshots[k])
			}
			require.Equal(t, at(tc.items[len(tc.items)-1].b), p.success[k], "an unchanged snapshot is a success")
		})
	}
}

func TestPlanStatus(t *testing.T) {
	k := stateKey{1, "db", "p"}
	status := func(collected time.Time, unavailable bool, reason string) *item {
		return &item{b: bus.Batch{ID: "s", Kind: bus.KindStatus, ConnectionID: 1, Database: "db", Probe: "p",
			CollectedAt: collected, Part: 0, Parts: 1, Unavailable: unavailable, Reason: reason}}
	}
	r := rows("r", 0, 1, t0.Add(time.Minute))
	r.b.Database = "db"
	p := makePlan([]*item{status(t0, true, "view missing"), r, status(t0.Add(-time.Hour), false, "old failure")},
		map[string]*recorded{}, map[stateKey]snapshot{})
	require.Equal(t, 2, p.statuses)
	require.True(t, p.avail[k].available, "rows after the status make the probe available")
	require.Nil(t, p.avail[k].reason)
	require.Equal(t, failure{"old failure", at(status(t0.Add(-time.Hour), false, "").b)}, p.failures[k])
	require.Len(t, p.ledger, 1, "status batches are not in the ledger")
}

func TestClassify(t *testing.T) {
	pg := func(code, msg string) error {
		return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code, Message: msg})
	}
	tests := []struct {
		err  error
		want class
	}{
		{errors.New("dial tcp: connection refused"), transient},
		{pg("57P01", "terminating connection due to administrator command"), transient},
		{pg("40001", "could not serialize access"), conflict},
		{pg("40P01", "deadlock detected"), conflict},
		{pg("23503", "violates foreign key constraint"), conflict},
		{pg("53300", "sorry, too many clients already"), transient},
		{pg("55P03", "canceling statement due to lock timeout"), transient},
		{pg("23505", `duplicate key value violates unique constraint "ingest_ledger_pkey"`), conflict},
		{pg("42501", "permission denied for table ingest_ledger"), transient},
		{pg("42P01", `relation "public.ingest_ledger" does not exist`), transient},
		{pg("22P02", `invalid input syntax for type bigint: "abc"`), poison},
		{pg("23502", `null value in column "connection_id"`), poison},
		{pg("42703", `column "bogus" of relation "p" does not exist`), poison},
		{pg("42P01", `relation "metrics.nosuch" does not exist`), poison},
		{pg("23514", `no partition of relation "p" found for row`), missingPartition},
		{pg("23514", `new row violates check constraint`), poison},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) { require.Equal(t, tc.want, classify(tc.err)) })
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: minBackoff, max: 4 * time.Second}
	for _, ceiling := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		d := b.delay()
		require.True(t, d >= ceiling/2 && d <= ceiling, "delay %s outside [%s, %s]", d, ceiling/2, ceiling)
	}
	b.reset()
	require.LessOrEqual(t, b.delay(), minBackoff)
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, config.Default[Config]().Validate())
	c := config.Default[Config]()
	c.ReplayWindow = 7 * 24 * time.Hour
	require.ErrorContains(t, c.Validate(), "PGC_SINK_LEDGER_RETENTION: must exceed the replay window")
	c = config.Default[Config]()
	c.FlushBytes, c.MaxBackoff = 0, time.Millisecond
	err := c.Validate()
	require.ErrorContains(t, err, "PGC_SINK_FLUSH_BYTES")
	require.ErrorContains(t, err, "PGC_SINK_MAX_BACKOFF")
}

func TestFlushPrefix(t *testing.T) {
	for _, tc := range []struct {
		sizes       []int
		limit       int
		take, bytes int
	}{
		{[]int{10, 10, 10}, 25, 2, 20},
		{[]int{10, 10, 10}, 30, 3, 30},
		{[]int{50, 10}, 25, 1, 50},  // at least one, however large
		{[]int{5, 50, 1}, 25, 1, 5}, // in order: the small one after waits
		{[]int{1, 1}, 1, 1, 1},
	} {
		take, bytes := flushPrefix(tc.sizes, tc.limit)
		require.Equal(t, tc.take, take, "%v within %d", tc.sizes, tc.limit)
		require.Equal(t, tc.bytes, bytes)
	}
}
