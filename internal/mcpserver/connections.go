package mcpserver

import (
	"context"
	"errors"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// Connection is a connection with its health, as list_connections and
// get_connection return it. It never holds a password.
type Connection struct {
	access.ConnectionView
	Health Health `json:"health" jsonschema:"collection health, the same as pgcollector status --json"`
}

// Health is obs.ConnectionStatus without the fields ConnectionView has.
type Health struct {
	State           string            `json:"state" jsonschema:"worst state of its probes: ok, pending (not yet run), late, error, overdue (nothing for two intervals), unavailable, disabled; not_monitored when switched off; unknown for one added a moment ago"`
	Up              *bool             `json:"up,omitempty" jsonschema:"whether the server answered the last connectivity check"`
	UpCheckedAt     *time.Time        `json:"up_checked_at,omitempty"`
	UpError         string            `json:"up_error,omitempty" jsonschema:"why the last connectivity check failed"`
	Availability24h *float64          `json:"availability_24h,omitempty" jsonschema:"share (0..1) of connectivity checks of the last 24 hours that succeeded"`
	Probes          []obs.ProbeStatus `json:"probes" jsonschema:"per probe: state, last_success, lag_seconds, last_error"`
}

func health(st obs.ConnectionStatus, ok bool) Health {
	if !ok {
		// Not yet in the fleet report (added a moment ago).
		return Health{State: "unknown", Probes: []obs.ProbeStatus{}}
	}
	h := Health{State: st.State, Up: st.Up, UpCheckedAt: st.UpCheckedAt, UpError: st.UpError,
		Availability24h: st.Availability24h, Probes: st.Probes}
	if h.Probes == nil {
		h.Probes = []obs.ProbeStatus{}
	}
	return h
}

// ConnectionList is list_connections' result.
type ConnectionList struct {
	Connections []Connection `json:"connections"`
}

// ConnectionResult is the result of the tools that change a connection.
type ConnectionResult struct {
	Connection access.ConnectionView `json:"connection"`
}

// Deleted is delete_connection's result.
type Deleted struct {
	ID      int64 `json:"id"`
	Deleted bool  `json:"deleted" jsonschema:"always true: a failed delete is an error"`
}

func boolPtr(v bool) *bool { return &v }

func (s *Server) addConnectionTools() {
	addTool(s, &mcp.Tool{Name: "list_connections", Title: "List monitored connections",
		Description: "Lists the PostgreSQL servers (connections) you own — an admin sees all — with their health: " +
			"overall state, whether the server answers, and per probe the last success, the lag behind its " +
			"interval and the last error. Passwords are never shown (has_password says whether one is stored).",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.listConnections)
	addTool(s, &mcp.Tool{Name: "get_connection", Title: "Show one connection",
		Description: "Shows one connection you own (an admin: any) with its health, by id. " +
			"A connection that does not exist or is not yours is reported as not found.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.getConnection)
	addTool(s, &mcp.Tool{Name: "add_connection", Title: "Add a connection",
		Description: "Adds a PostgreSQL server to monitor, owned by you; collection starts within a minute. " +
			"name, host and username are required. The password is encrypted by the collector and never " +
			"returned. Bad input is refused with an error naming the field, and nothing is stored.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(false), OpenWorldHint: boolPtr(false)}},
		tuneConnection, s.addConnection)
	addTool(s, &mcp.Tool{Name: "update_connection", Title: "Change a connection",
		Description: "Changes the given fields of a connection you own; fields left out are kept. " +
			"A new password replaces the stored one, an empty one removes it. Bad input is refused with an " +
			"error naming the field, and nothing is changed.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(true), IdempotentHint: true, OpenWorldHint: boolPtr(false)}},
		tuneConnection, s.updateConnection)
	addTool(s, &mcp.Tool{Name: "disable_connection", Title: "Stop monitoring a connection",
		Description: "Stops collecting from a connection you own. Its settings and stored samples are kept; " +
			"enable_connection resumes collection.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(true), IdempotentHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.monitored(false))
	addTool(s, &mcp.Tool{Name: "enable_connection", Title: "Resume monitoring a connection",
		Description: "Resumes collecting from a connection you own that was disabled.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(false), IdempotentHint: true, OpenWorldHint: boolPtr(false)}},
		nil, s.monitored(true))
	addTool(s, &mcp.Tool{Name: "delete_connection", Title: "Delete a connection",
		Description: "Deletes a connection you own (an admin: any), by id: collection from it stops within a " +
			"minute and its settings and stored password are removed; samples already stored stay until " +
			"retention drops them. It cannot be undone; disable_connection only pauses. A connection that " +
			"does not exist or is not yours is reported as not found.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: boolPtr(true), OpenWorldHint: boolPtr(false)}},
		nil, s.deleteConnection)
}

func tuneConnection(sc *jsonschema.Schema) {
	enum(sc, "sslmode", access.SSLModes)
}

func (s *Server) listConnections(ctx context.Context, p access.Principal, _ noInput) (ConnectionList, error) {
	cs, err := s.svc.ListConnections(ctx, p)
	if err != nil {
		return ConnectionList{}, err
	}
	st, err := s.svc.Statuses(ctx, p)
	if err != nil {
		return ConnectionList{}, err
	}
	out := ConnectionList{Connections: make([]Connection, 0, len(cs))}
	for _, c := range cs {
		h, ok := st[c.ID]
		out.Connections = append(out.Connections, Connection{ConnectionView: c, Health: health(h, ok)})
	}
	return out, nil
}

func (s *Server) getConnection(ctx context.Context, p access.Principal, in idInput) (Connection, error) {
	c, err := s.svc.GetConnection(ctx, p, in.ID)
	if err != nil {
		return Connection{}, err
	}
	st, err := s.svc.Status(ctx, p, in.ID)
	if err != nil && !errors.Is(err, access.ErrNotFound) {
		return Connection{}, err
	}
	return Connection{ConnectionView: c, Health: health(st, err == nil)}, nil
}

func (s *Server) addConnection(ctx context.Context, p access.Principal, in addInput) (ConnectionResult, error) {
	c, err := s.svc.CreateConnection(ctx, p, in.input(&in.Name, &in.Host, &in.Username))
	return ConnectionResult{Connection: c}, err
}

func (s *Server) updateConnection(ctx context.Context, p access.Principal, in updateInput) (ConnectionResult, error) {
	c, err := s.svc.UpdateConnection(ctx, p, in.ID, in.input(in.Name, in.Host, in.Username))
	return ConnectionResult{Connection: c}, err
}

func (s *Server) monitored(on bool) action[idInput, ConnectionResult] {
	return func(ctx context.Context, p access.Principal, in idInput) (ConnectionResult, error) {
		c, err := s.svc.SetMonitored(ctx, p, in.ID, on)
		return ConnectionResult{Connection: c}, err
	}
}

func (s *Server) deleteConnection(ctx context.Context, p access.Principal, in idInput) (Deleted, error) {
	if err := s.svc.DeleteConnection(ctx, p, in.ID); err != nil {
		return Deleted{}, err
	}
	return Deleted{ID: in.ID, Deleted: true}, nil
}
