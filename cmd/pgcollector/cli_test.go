package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestBadConfigurationExits2NamingTheSetting(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "s")
	require.NoError(t, os.WriteFile(secret, []byte("x\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	badYAML := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(badYAML, []byte("no_such_setting: 1\n"), 0o600))

	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		setting string
	}{
		{"missing datastore url", map[string]string{"PGC_SECRET_FILE": secret}, []string{"migrate"}, "PGC_DATASTORE_URL"},
		{"missing secret file", map[string]string{"PGC_DATASTORE_URL": "postgres://u@127.0.0.1:1/x"}, []string{"run"}, "PGC_SECRET_FILE"},
		{"secret file absent", map[string]string{"PGC_DATASTORE_URL": "postgres://u@127.0.0.1:1/x", "PGC_SECRET_FILE": filepath.Join(dir, "nope")}, []string{"run"}, "PGC_SECRET_FILE"},
		{"secret file empty", map[string]string{"PGC_DATASTORE_URL": "postgres://u@127.0.0.1:1/x", "PGC_SECRET_FILE": empty}, []string{"run"}, "PGC_SECRET_FILE"},
		{"malformed datastore url", map[string]string{"PGC_DATASTORE_URL": "postgres://u:canary@[bad/x", "PGC_SECRET_FILE": secret}, []string{"migrate"}, "PGC_DATASTORE_URL"},
		{"bad integer", map[string]string{"PGC_MONITORED_POOL_MAX_CONNS": "lots"}, []string{"config"}, "PGC_MONITORED_POOL_MAX_CONNS"},
		{"bad duration", map[string]string{"PGC_RETENTION_FIRST_DELAY": "soon"}, []string{"config"}, "PGC_RETENTION_FIRST_DELAY"},
		{"bad log level", map[string]string{"PGC_LOG_LEVEL": "loud"}, []string{"config"}, "PGC_LOG_LEVEL"},
		{"mcp without the http server", map[string]string{"PGC_MCP_ENABLED": "true", "PGC_HTTP_ADDR": ""}, []string{"config"}, "PGC_MCP_ENABLED"},
		{"bad boolean", map[string]string{"PGC_MCP_ENABLED": "maybe"}, []string{"config"}, "PGC_MCP_ENABLED"},
		{"negative object cap", map[string]string{"PGC_PROBE_MAX_OBJECTS": "-1"}, []string{"config"}, "PGC_PROBE_MAX_OBJECTS"},
		{"cap on a probe without objects", map[string]string{"PGC_PROBE_MAX_OBJECTS_BY_PROBE": "pg_settings=5"}, []string{"config"}, "PGC_PROBE_MAX_OBJECTS_BY_PROBE"},
		{"malformed per-probe cap", map[string]string{"PGC_PROBE_MAX_OBJECTS_BY_PROBE": "pg_stat_all_tables:5"}, []string{"config"}, "PGC_PROBE_MAX_OBJECTS_BY_PROBE"},
		{"unknown yaml key", nil, []string{"config", "--config", badYAML}, "PGC_CONFIG"},
		{"unknown command", nil, []string{"fly"}, "fly"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, errOut := runCLI(t, "", tc.args...)
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, tc.setting)
			require.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %q", errOut)
			require.NotContains(t, errOut, "canary")
		})
	}
}

func TestConfigPrintsEveryVariableRedacted(t *testing.T) {
	t.Setenv("PGC_DATASTORE_URL", "postgres://collector:canary-secret@db.example:5432/pgc")
	code, out, errOut := runCLI(t, "", "config")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "canary-secret")
	for _, v := range []string{"PGC_DATASTORE_URL=postgres://collector:xxxxx@db.example:5432/pgc", "PGC_SECRET_FILE",
		"PGC_DATA_DIR=./data", "PGC_NATS_URL", "PGC_NATS_LISTEN", "PGC_NATS_CREDS", "PGC_NATS_TLS_CA",
		"PGC_STREAM_REPLICAS=1", "PGC_BUFFER_MAX_BYTES", "PGC_DATASTORE_POOL_MAX_CONNS=25",
		"PGC_MONITORED_POOL_MAX_CONNS=5", "PGC_HTTP_ADDR=127.0.0.1:9187", "PGC_LOG_LEVEL=info", "PGC_LOG_FORMAT=text"} {
		require.Contains(t, out, v)
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("data_dir: /yaml\nlog_level: debug\nfetcher_workers: 3\n"), 0o600))
	t.Setenv("PGC_CONFIG", cfg)
	t.Setenv("PGC_LOG_LEVEL", "warn")
	code, out, errOut := runCLI(t, "", "config", "--data-dir", "/flag")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "PGC_DATA_DIR=/flag")
	require.Contains(t, out, "PGC_LOG_LEVEL=warn")
	require.Contains(t, out, "PGC_FETCHER_WORKERS=3")
}
