package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/probes"
)

// Bounds of read_metrics: an assistant's context is small, and the
// metrics tables are large.
const (
	DefaultRows = 50
	MaxRows     = 500
)

// Probe is one probe as list_probes shows it.
type Probe struct {
	Name            string   `json:"name"`
	Scope           string   `json:"scope" jsonschema:"server (one row set per server) or database (per database)"`
	Description     string   `json:"description"`
	Enabled         bool     `json:"enabled"`
	IntervalSeconds int      `json:"interval_seconds" jsonschema:"how often it runs on every connection"`
	RetentionDays   int      `json:"retention_days" jsonschema:"how long its samples are kept"`
	Columns         []string `json:"columns" jsonschema:"its own columns; stored rows also have connection_id, collected_at and, for database scope, database_name"`
}

// ProbeList is list_probes' result.
type ProbeList struct {
	Probes []Probe `json:"probes"`
}

// Metrics is read_metrics' result.
type Metrics struct {
	ConnectionID int64            `json:"connection_id"`
	Probe        string           `json:"probe"`
	Limit        int              `json:"limit"`
	Count        int              `json:"count" jsonschema:"rows returned; equal to limit when older rows may exist"`
	Rows         []map[string]any `json:"rows" jsonschema:"the newest samples first, each row's columns by name"`
}

func (s *Server) addMetricsTools() {
	addTool(s, &mcp.Tool{Name: "list_probes", Title: "List probes",
		Description: "Lists the probes (the queries the collector runs on every monitored server): name, scope, " +
			"whether enabled, interval, retention and the columns each stores. Probe settings are fleet-wide.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.listProbes)
	addTool(s, &mcp.Tool{Name: "read_metrics", Title: "Read recent samples",
		Description: fmt.Sprintf("Returns the newest samples one probe stored for one connection you own, newest "+
			"first: limit rows (default %d, at most %d; a larger limit is refused). The result is "+
			"{connection_id, probe, limit, count, rows: [{column: value}]}, numbers exact. Use list_probes "+
			"for names and columns.", DefaultRows, MaxRows),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: boolPtr(false)}},
		func(sc *jsonschema.Schema) { setDefault(sc, "limit", DefaultRows) }, s.readMetricsUntyped)
}

// readMetricsUntyped is read_metrics without an output schema, on
// purpose: the SDK validates typed output by decoding it into float64s
// and encoding it again, which rounds counters above 2^53 (WAL bytes,
// xact_commit on busy servers). Unvalidated, the rows go out as stored.
func (s *Server) readMetricsUntyped(ctx context.Context, p access.Principal, in readMetricsInput) (any, error) {
	m, err := s.readMetrics(ctx, p, in)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Server) listProbes(ctx context.Context, _ access.Principal, _ noInput) (ProbeList, error) {
	ps, err := s.svc.ListProbes(ctx)
	if err != nil {
		return ProbeList{}, err
	}
	columns := map[string][]string{}
	for _, p := range probes.All {
		for _, c := range p.Columns {
			columns[p.Name] = append(columns[p.Name], c.Name)
		}
	}
	out := ProbeList{Probes: make([]Probe, 0, len(ps))}
	for _, p := range ps {
		cols := columns[p.Name]
		if cols == nil {
			cols = []string{}
		}
		out.Probes = append(out.Probes, Probe{Name: p.Name, Scope: p.Scope, Description: p.Description,
			Enabled: p.Enabled, IntervalSeconds: p.IntervalSeconds, RetentionDays: p.RetentionDays, Columns: cols})
	}
	return out, nil
}

func (s *Server) readMetrics(ctx context.Context, p access.Principal, in readMetricsInput) (Metrics, error) {
	// The service's own bound is higher: an assistant's is checked here.
	limit := DefaultRows
	if in.Limit != nil {
		limit = *in.Limit
	}
	if limit < 1 || limit > MaxRows {
		return Metrics{}, &access.ValidationError{Field: "limit",
			Msg: fmt.Sprintf("must be between 1 and %d (default %d), got %d: ask for fewer rows", MaxRows, DefaultRows, limit)}
	}
	raw, err := s.svc.Samples(ctx, p, in.ConnectionID, in.Probe, limit)
	if err != nil {
		return Metrics{}, err
	}
	out := Metrics{ConnectionID: in.ConnectionID, Probe: in.Probe, Limit: limit, Count: len(raw),
		Rows: make([]map[string]any, 0, len(raw))}
	for _, r := range raw {
		// UseNumber keeps bigint counters and numeric byte counts exact:
		// float64 would round them above 2^53.
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return Metrics{}, fmt.Errorf("decode a %s sample: %w", in.Probe, err)
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}
