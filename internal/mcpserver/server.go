package mcpserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
)

// maxBody bounds one MCP request. Tool inputs are a few fields; the SDK's
// default of 4 MiB is far more than any legitimate call needs.
const maxBody = 1 << 20

// instructions is what an assistant reads first when it connects.
const instructions = `pgcollector monitors PostgreSQL servers ("connections") and stores what its probes collect.
These tools act as the user who owns the API token: they see and change only that user's connections
(an admin sees all). Start with list_connections (health included) or list_probes; read_metrics returns
recent samples of one probe for one connection. Connection ids come from list_connections.
Passwords are accepted by add_connection and update_connection, stored encrypted, and never shown again.`

// Server is the MCP endpoint: the SDK's server with pgcollector's tools,
// behind bearer-token authentication.
type Server struct {
	svc  *access.Service
	rate *tokenrate.Limiter
	log  *slog.Logger
	mcp  *mcp.Server
}

// New registers the tools; it starts nothing. lim is the per-token request
// budget, the same one the REST API spends (api.NewLimiter); version is
// the collector's, reported to clients.
func New(svc *access.Service, lim *tokenrate.Limiter, version string, log *slog.Logger) (*Server, error) {
	if svc == nil || lim == nil || log == nil {
		return nil, errors.New("mcpserver: access service, rate limiter and logger are required")
	}
	s := &Server{svc: svc, rate: lim, log: log}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "pgcollector", Title: "pgcollector", Version: version},
		&mcp.ServerOptions{Instructions: instructions, Logger: quiet(log)})
	s.addConnectionTools()
	s.addMetricsTools()
	s.addProbeTools()
	return s, nil
}

// Handler serves the streamable HTTP transport at Path. It is stateless:
// no session outlives its request, so nothing needs closing on shutdown
// beyond the HTTP server itself, and every request is authenticated
// afresh (401 before any MCP message is read).
func (s *Server) Handler() http.Handler {
	// The SDK's DNS-rebinding guard (403 for a loopback listener reached
	// under another Host name) protects servers without authentication; a
	// rebinding page cannot send our bearer token, and the guard would
	// refuse every request a reverse proxy on the same machine forwards
	// with the public Host header.
	stream := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: quiet(s.log),
			MaxRequestBodyBytes: maxBody, DisableLocalhostProtection: true})
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := w.(*challenge); ok {
			// Hand the SDK the real writer, with its Flusher.
			w = c.ResponseWriter
		}
		// After authentication, so an unknown token spends no one's
		// budget, and before the SDK reads the body.
		p, ok := principalOf(auth.TokenInfoFromContext(r.Context()))
		if !ok {
			// The middleware always sets it; without it, refuse.
			http.Error(w, access.ErrUnauthenticated.Error(), http.StatusUnauthorized)
			return
		}
		if allowed, wait := s.rate.Allow(p.TokenID); !allowed {
			tokenrate.Refuse(w.Header(), wait)
			http.Error(w, "request rate of this token exceeded", http.StatusTooManyRequests)
			return
		}
		stream.ServeHTTP(w, r)
	})
	guarded := auth.RequireBearerToken(s.verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		guarded.ServeHTTP(&challenge{ResponseWriter: w}, r)
	})
}

// challenge adds the WWW-Authenticate header RFC 6750 asks of a 401, which
// the SDK's middleware sets only when OAuth metadata is configured.
type challenge struct{ http.ResponseWriter }

func (c *challenge) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		c.Header().Set("WWW-Authenticate", `Bearer realm="pgcollector"`)
	}
	c.ResponseWriter.WriteHeader(code)
}

// principalKey holds the access.Principal in auth.TokenInfo.Extra.
const principalKey = "pgcollector.principal"

// refused is a token access.Authenticate did not accept. It says no more
// than access does (never which of unknown, revoked or expired), and
// unwraps to auth.ErrInvalidToken so the middleware answers 401.
type refused struct{}

func (refused) Error() string   { return access.ErrUnauthenticated.Error() }
func (refused) Unwrap() []error { return []error{auth.ErrInvalidToken, access.ErrUnauthenticated} }

// errAuthUnavailable is what a client sees when the datastore cannot check
// its token; the cause goes to the log only.
var errAuthUnavailable = errors.New("authentication unavailable; try again later")

func (s *Server) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	p, err := access.Authenticate(ctx, s.svc.DB(), token)
	if errors.Is(err, access.ErrUnauthenticated) {
		return nil, refused{}
	}
	if err != nil {
		s.log.Error("MCP request not authenticated: datastore check failed", "err", err)
		return nil, errAuthUnavailable
	}
	// UserID is what the SDK would bind a session to; Extra carries the
	// principal to the tool handlers.
	return &auth.TokenInfo{UserID: p.Username, Extra: map[string]any{principalKey: p}}, nil
}

// principal is the authenticated caller of a tool call.
func principal(req *mcp.CallToolRequest) (access.Principal, error) {
	if req.Extra != nil {
		if p, ok := principalOf(req.Extra.TokenInfo); ok {
			return p, nil
		}
	}
	// Handler always authenticates first; reaching here is a wiring bug.
	return access.Principal{}, access.ErrUnauthenticated
}

// principalOf is the principal verify stored in ti.
func principalOf(ti *auth.TokenInfo) (access.Principal, bool) {
	if ti == nil {
		return access.Principal{}, false
	}
	p, ok := ti.Extra[principalKey].(access.Principal)
	return p, ok
}
