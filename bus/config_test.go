package bus

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/config"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		err  string
	}{
		{in: "2GiB", want: 2 << 30},
		{in: "512MiB", want: 512 << 20},
		{in: "1GB", want: 1_000_000_000},
		{in: "1gb", want: 1_000_000_000},
		{in: "64KiB", want: 64 << 10},
		{in: "10kB", want: 10_000},
		{in: "8M", want: 8 << 20},
		{in: "1048576", want: 1 << 20},
		{in: "100B", want: 100},
		{in: " 512 MiB ", want: 512 << 20},
		{in: "1.5GiB", want: 3 << 29},
		{in: "0", want: 0},
		{in: "", err: "empty"},
		{in: "GiB", err: "no number"},
		{in: "-1MiB", err: "negative"},
		{in: "lots", err: "not a number"},
		{in: "2PiB", err: "not a number"},
		{in: "9000000TiB", err: "too large"},
	} {
		got, err := ParseByteSize(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		again, err := ParseByteSize(got.String())
		require.NoError(t, err)
		require.Equal(t, got, again, "String() round trip of %s", tc.in)
	}
	require.Equal(t, "2GiB", (2 * GiB).String())
	require.Equal(t, "1GB", ByteSize(1_000_000_000).String())
	require.Equal(t, "1001B", ByteSize(1001).String())
}

func TestByteSizeDecoders(t *testing.T) {
	var v struct{ Size ByteSize }
	require.NoError(t, json.Unmarshal([]byte(`{"Size":"512MiB"}`), &v))
	require.Equal(t, 512*MiB, v.Size)
	out, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"Size":"512MiB"}`, string(out))
}

// loadEnv loads a Config the way cmd does: defaults, then the environment.
func loadEnv(cfg *Config) error {
	l, err := config.New(cfg)
	if err != nil {
		return err
	}
	return l.Load("")
}

func TestConfigFromEnvironment(t *testing.T) {
	var cfg Config
	require.NoError(t, loadEnv(&cfg))
	require.Equal(t, config.Default[Config](), cfg)

	t.Setenv("PGC_BUFFER_MAX_BYTES", "512MiB")
	t.Setenv("PGC_NATS_MAX_PAYLOAD", "4MiB")
	t.Setenv("PGC_REPLAY_WINDOW", "2h")
	t.Setenv("PGC_NATS_SYNC_ALWAYS", "true")
	t.Setenv("PGC_NATS_URL", "nats://a:4222,nats://b:4222")
	t.Setenv("PGC_STREAM_REPLICAS", "3")
	require.NoError(t, loadEnv(&cfg))
	require.Equal(t, 512*MiB, cfg.BufferMaxBytes)
	require.Equal(t, 4*MiB, cfg.MaxPayload)
	require.Equal(t, 2*time.Hour, cfg.ReplayWindow)
	require.True(t, cfg.SyncAlways)
	require.Equal(t, 3, cfg.StreamReplicas)
	require.NoError(t, cfg.Validate())

	t.Setenv("PGC_BUFFER_MAX_BYTES", "lots")
	require.ErrorContains(t, loadEnv(&cfg), "PGC_BUFFER_MAX_BYTES")
}

func TestValidateNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"replicas zero", func(c *Config) { c.StreamReplicas = 0 }, "PGC_STREAM_REPLICAS: must be 1..5"},
		{"replicas six", func(c *Config) { c.NatsURL = "nats://x:4222"; c.StreamReplicas = 6 }, "PGC_STREAM_REPLICAS: must be 1..5"},
		{"replicas embedded", func(c *Config) { c.StreamReplicas = 3 }, "PGC_STREAM_REPLICAS: must be 1 with the embedded server"},
		{"small buffer", func(c *Config) { c.BufferMaxBytes = 1000 }, "PGC_BUFFER_MAX_BYTES: must be at least 1MiB"},
		{"negative window", func(c *Config) { c.ReplayWindow = -time.Second }, "PGC_REPLAY_WINDOW"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "PGC_DATA_DIR"},
		{"huge payload", func(c *Config) { c.MaxPayload = 128 * MiB }, "PGC_NATS_MAX_PAYLOAD: must be 64KiB..64MiB"},
		{"bad listen", func(c *Config) { c.NatsListen = "4222" }, "PGC_NATS_LISTEN"},
		{"listen with url", func(c *Config) { c.NatsURL = "nats://x:4222"; c.NatsListen = ":4222" }, "PGC_NATS_LISTEN: applies only to the embedded server"},
		{"creds embedded", func(c *Config) { c.NatsCreds = "/x.creds" }, "PGC_NATS_CREDS"},
		{"ca embedded", func(c *Config) { c.NatsTLSCA = "/ca.pem" }, "PGC_NATS_TLS_CA"},
		{"bad scheme", func(c *Config) { c.NatsURL = "http://user:secret@x:4222" }, "PGC_NATS_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default[Config]()
			tc.change(&cfg)
			err := cfg.Validate()
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "secret", "errors never show passwords")
		})
	}
	ok := config.Default[Config]()
	ok.NatsURL = "localhost:4222, tls://token@nats.example:4222"
	require.NoError(t, ok.Validate())
	ok = config.Default[Config]()
	ok.NatsListen = "0.0.0.0:4222"
	require.NoError(t, ok.Validate())
}
