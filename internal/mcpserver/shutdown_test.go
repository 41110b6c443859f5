package mcpserver_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pgcollector/pgcollector/internal/mcpserver"
	"github.com/pgcollector/pgcollector/internal/tokenrate"
)

// The handler is stateless: once its clients have gone and the HTTP
// server has shut down, not one goroutine of it is left.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	eachVersion(t, func(t *testing.T, r *rig) {
		before := goleak.IgnoreCurrent()
		lim, err := tokenrate.New(1000, 1000)
		require.NoError(t, err)
		ms, err := mcpserver.New(r.svc, lim, "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
		require.NoError(t, err)
		ts := httptest.NewServer(ms.Handler())
		cs, err := connect(t.Context(), ts.URL, r.tokens["alice"])
		require.NoError(t, err)
		add(t, cs, "leak-check")
		ok[mcpserver.ConnectionList](t, cs, "list_connections", nil)
		require.NoError(t, cs.Close())
		ts.Close()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, before)
	})
}
