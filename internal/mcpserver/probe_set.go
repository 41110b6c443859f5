package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/catalog"
)

// setProbeInput is the REST API's PATCH /probes/{name} as a tool: absent
// fields are kept.
type setProbeInput struct {
	Name               string `json:"name" jsonschema:"probe name, from list_probes"`
	IntervalSeconds    *int   `json:"interval_seconds,omitempty" jsonschema:"how often it runs on every connection, 1-86400 seconds"`
	RetentionDays      *int   `json:"retention_days,omitempty" jsonschema:"how long its samples are kept, 1-3650 days"`
	Enabled            *bool  `json:"enabled,omitempty" jsonschema:"whether it runs at all"`
	StatementTimeoutMs *int   `json:"statement_timeout_ms,omitempty" jsonschema:"statement_timeout of its query on the monitored server, milliseconds"`
}

// ProbeResult is set_probe's result: the probe as list_probes shows it.
type ProbeResult struct {
	Probe Probe `json:"probe"`
}

func (s *Server) addProbeTools() {
	addTool(s, &mcp.Tool{Name: "set_probe", Title: "Change a probe (admins)",
		Description: "Admins only: changes a probe's fleet-wide settings (interval_seconds, retention_days, " +
			"enabled, statement_timeout_ms); fields left out are kept. Other users are refused. Bad input is " +
			"refused with an error naming the field, and nothing is changed. The change is audited.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(true), IdempotentHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.setProbe)
}

func (s *Server) setProbe(ctx context.Context, p access.Principal, in setProbeInput) (ProbeResult, error) {
	err := s.svc.SetProbe(ctx, p, in.Name, catalog.ProbeChange{IntervalSeconds: in.IntervalSeconds,
		RetentionDays: in.RetentionDays, Enabled: in.Enabled, StatementTimeoutMs: in.StatementTimeoutMs})
	if err != nil {
		return ProbeResult{}, err
	}
	all, err := s.listProbes(ctx, p, noInput{})
	if err != nil {
		return ProbeResult{}, err
	}
	for _, pr := range all.Probes {
		if pr.Name == in.Name {
			return ProbeResult{Probe: pr}, nil
		}
	}
	return ProbeResult{}, access.ErrNotFound
}
