package api

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pgcollector/pgcollector/internal/access"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// requestTimeout bounds the datastore work of one request.
const requestTimeout = 15 * time.Second

//go:embed openapi.json
var openAPI []byte

// API serves /api/v1/.
type API struct {
	cfg  Config
	svc  *access.Service
	rate *tokenrate.Limiter
	log  *slog.Logger
}

// New validates cfg; it starts nothing. lim is the per-token budget,
// shared with the MCP endpoint (NewLimiter makes it from cfg).
func New(cfg Config, svc *access.Service, lim *tokenrate.Limiter, log *slog.Logger) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if svc == nil || lim == nil || log == nil {
		return nil, errors.New("api: service, rate limiter and logger are required")
	}
	return &API{cfg: cfg, svc: svc, rate: lim, log: log}, nil
}

// NewLimiter is the per-token budget cfg sets (PGC_API_RATE,
// PGC_API_BURST), for the API and every other endpoint taking tokens.
func NewLimiter(cfg Config) (*tokenrate.Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return tokenrate.New(cfg.RatePerToken, cfg.BurstPerToken)
}

// Handler routes every request under Prefix.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	for _, rt := range a.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, a.authenticated(rt.handle))
	}
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route", "")
	})
	return mux
}

// authenticated checks the bearer token, the token's rate and the body
// size before h runs.
func (a *API) authenticated(h func(w http.ResponseWriter, r *http.Request, p access.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pgcollector"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required", "Authorization")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		p, err := access.Authenticate(ctx, a.svc.DB(), strings.TrimSpace(plain))
		if err != nil {
			if !errors.Is(err, access.ErrUnauthenticated) {
				a.log.Error("API authentication failed", "err", err)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="pgcollector", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, access.ErrUnauthenticated.Error(), "Authorization")
			return
		}
		if ok, wait := a.rate.Allow(p.TokenID); !ok {
			tokenrate.Refuse(w.Header(), wait)
			writeError(w, http.StatusTooManyRequests, "request rate of this token exceeded", "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		h(w, r.WithContext(ctx), p)
	})
}
