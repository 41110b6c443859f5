package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pgcollector/pgcollector/internal/access"
)

// action is a tool's work for one authenticated caller.
type action[In, Out any] func(ctx context.Context, p access.Principal, in In) (Out, error)

// addTool registers a typed tool. Its input schema is inferred from In
// (descriptions from jsonschema tags) and then adjusted by tune, for the
// bounds, defaults and enums that struct tags cannot express. Every call is
// logged with its tool and user, never its arguments: they may hold a
// password.
func addTool[In, Out any](s *Server, t *mcp.Tool, tune func(*jsonschema.Schema), fn action[In, Out]) {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		// A struct that has no schema is a programming error, found by
		// every test that builds a Server.
		panic(fmt.Sprintf("mcpserver: schema of %s: %v", t.Name, err))
	}
	if tune != nil {
		tune(schema)
	}
	t.InputSchema = schema
	mcp.AddTool(s.mcp, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		var zero Out
		p, err := principal(req)
		if err != nil {
			return nil, zero, err
		}
		start := time.Now()
		out, err := fn(ctx, p, in)
		if err != nil {
			return nil, zero, s.toolError(t.Name, p, start, err)
		}
		s.log.Info("MCP tool call", "tool", t.Name, "user", p.Username, "duration", time.Since(start))
		return nil, out, nil
	})
}

// toolError is what the assistant is told of a failed call. Bad input,
// not found and admin-only say what they are (a validation error names the
// field); anything else is logged and reported without detail, since the
// caller can do nothing about a datastore fault and its text is not theirs.
func (s *Server) toolError(tool string, p access.Principal, start time.Time, err error) error {
	var ve *access.ValidationError
	attrs := []any{"tool", tool, "user", p.Username, "duration", time.Since(start)}
	switch {
	case errors.As(err, &ve):
		s.log.Info("MCP tool call refused: bad input", append(attrs, "field", ve.Field)...)
		return fmt.Errorf("invalid input: %s", ve.Error())
	case errors.Is(err, access.ErrNotFound), errors.Is(err, access.ErrForbidden), errors.Is(err, access.ErrConflict):
		s.log.Info("MCP tool call refused", append(attrs, "err", err)...)
		return err
	default:
		s.log.Error("MCP tool call failed", append(attrs, "err", err)...)
		return errors.New("internal error: the call did not complete; the collector's log has the details")
	}
}

// quiet is log for the SDK, warnings and errors only: in stateless mode it
// logs every request's throwaway session at info level.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{Handler: log.Handler(), min: slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// setDefault sets a property's default, which the SDK applies before the
// handler runs. Ranges are not put in the schema: the SDK's messages for
// them ("maximum: 501/1 is greater than 500.000000") are worse than the
// handlers' own, and the descriptions state the ranges.
func setDefault(s *jsonschema.Schema, prop string, def any) {
	s.Properties[prop].Default = mustJSON(def)
}

// enum restricts a string property to values.
func enum(s *jsonschema.Schema, prop string, values []string) {
	p := s.Properties[prop]
	p.Enum = make([]any, len(values))
	for i, v := range values {
		p.Enum[i] = v
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: default %v: %v", v, err))
	}
	return b
}
