package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

// TestAPIRefusesTokensInClearOffLoopback: the API on a non-loopback
// address without TLS is a configuration error naming PGC_API_ENABLED,
// unless PGC_API_ALLOW_PLAIN_HTTP says a proxy terminates TLS.
func TestAPIRefusesTokensInClearOffLoopback(t *testing.T) {
	var s settings
	for _, target := range s.targets() {
		require.NoError(t, config.ApplyDefaults(target))
	}
	s.API.Enabled = true
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for addr, refused := range map[string]bool{"0.0.0.0:9187": true, "10.1.2.3:9187": true, ":9187": true,
		"127.0.0.1:9187": false, "localhost:9187": false, "[::1]:9187": false} {
		s.Core.HTTPAddr = addr
		err := mountAPI(nil, s, nil, nil, nil, log)
		if refused {
			require.ErrorContains(t, err, "PGC_API_ENABLED", addr)
			require.True(t, config.IsConfigError(err))
		} else {
			require.NotContains(t, errString(err), "PGC_API_ENABLED", addr)
		}
	}
	s.Core.HTTPAddr, s.API.AllowPlainHTTP = "0.0.0.0:9187", true
	require.NotContains(t, errString(mountAPI(nil, s, nil, nil, nil, log)), "PGC_API_ENABLED")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
