package bus

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config says where the bus lives. cmd loads it through internal/config:
// every field below is the variable PGC_<tag>, the file key <tag> in lower
// case and the flag --<tag> with dashes, all parsed by the same rules.
type Config struct {
	DataDir        string        `envconfig:"DATA_DIR" default:"./data" desc:"directory for the embedded NATS server's stream files"`
	NatsURL        string        `envconfig:"NATS_URL" desc:"comma-separated URLs of an external NATS cluster; empty runs the embedded server"`
	NatsListen     string        `envconfig:"NATS_LISTEN" desc:"host:port where the embedded server also accepts other processes, without authentication: use a private address (port 0 picks a free one)"`
	NatsCreds      string        `envconfig:"NATS_CREDS" desc:"credentials file for the external NATS cluster"`
	NatsTLSCA      string        `envconfig:"NATS_TLS_CA" desc:"CA certificate file for the external NATS cluster"`
	StreamReplicas int           `envconfig:"STREAM_REPLICAS" default:"1" desc:"JetStream replicas for the streams (1..5; 1 with the embedded server)"`
	BufferMaxBytes ByteSize      `envconfig:"BUFFER_MAX_BYTES" default:"2GiB" desc:"disk the batch buffer (PGC_BATCHES) may use; when unacknowledged batches fill it, collection pauses"`
	ReplayWindow   time.Duration `envconfig:"REPLAY_WINDOW" default:"24h" desc:"how long acknowledged batches are kept for replay, as space allows"`
	SyncAlways     bool          `envconfig:"NATS_SYNC_ALWAYS" desc:"fsync every message in the embedded store, so accepted batches also survive power loss"`
	MaxPayload     ByteSize      `envconfig:"NATS_MAX_PAYLOAD" default:"8MiB" desc:"largest message of the embedded server; a remote server's own limit is used instead"`
}

// Limits Validate enforces. The NATS server refuses payloads above 64 MiB.
const (
	minBufferBytes = 1 * MiB
	minMaxPayload  = 64 * KiB
	maxMaxPayload  = 64 * MiB
)

// Embedded reports whether this configuration runs the embedded server.
func (c Config) Embedded() bool { return strings.TrimSpace(c.NatsURL) == "" }

// Validate checks the configuration. Each error names the variable so that
// cmd can print it as the one-line reason for exit code 2.
func (c Config) Validate() error {
	var errs []error
	bad := func(variable, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", variable, fmt.Sprintf(format, args...)))
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		bad("PGC_STREAM_REPLICAS", "must be 1..5, got %d", c.StreamReplicas)
	}
	if c.BufferMaxBytes < minBufferBytes {
		bad("PGC_BUFFER_MAX_BYTES", "must be at least %s, got %s", minBufferBytes, c.BufferMaxBytes)
	}
	if c.ReplayWindow < 0 {
		bad("PGC_REPLAY_WINDOW", "must not be negative, got %s", c.ReplayWindow)
	}
	if c.Embedded() {
		c.validateEmbedded(bad)
	} else {
		c.validateRemote(bad)
	}
	return errors.Join(errs...)
}

func (c Config) validateEmbedded(bad func(variable, format string, args ...any)) {
	if strings.TrimSpace(c.DataDir) == "" {
		bad("PGC_DATA_DIR", "must not be empty with the embedded server")
	}
	if c.StreamReplicas != 1 {
		bad("PGC_STREAM_REPLICAS", "must be 1 with the embedded server (PGC_NATS_URL is empty), got %d", c.StreamReplicas)
	}
	if c.MaxPayload < minMaxPayload || c.MaxPayload > maxMaxPayload {
		bad("PGC_NATS_MAX_PAYLOAD", "must be %s..%s, got %s", minMaxPayload, maxMaxPayload, c.MaxPayload)
	}
	if c.NatsListen != "" {
		if _, _, err := listenHostPort(c.NatsListen); err != nil {
			bad("PGC_NATS_LISTEN", "%v", err)
		}
	}
	if c.NatsCreds != "" {
		bad("PGC_NATS_CREDS", "applies only to an external cluster (set PGC_NATS_URL)")
	}
	if c.NatsTLSCA != "" {
		bad("PGC_NATS_TLS_CA", "applies only to an external cluster (set PGC_NATS_URL)")
	}
}

func (c Config) validateRemote(bad func(variable, format string, args ...any)) {
	if c.NatsListen != "" {
		bad("PGC_NATS_LISTEN", "applies only to the embedded server, but PGC_NATS_URL is set")
	}
	for _, raw := range c.natsURLs() {
		if !strings.Contains(raw, "://") {
			raw = "nats://" + raw // nats.go reads a bare host:port the same way
		}
		u, err := url.Parse(raw)
		if err != nil {
			// url.Parse quotes the whole input, which may hold a password.
			bad("PGC_NATS_URL", "%q is not a URL", redactURL(raw))
			continue
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			bad("PGC_NATS_URL", "%q: scheme must be nats, tls, ws or wss", redactURL(raw))
		}
		if u.Host == "" {
			bad("PGC_NATS_URL", "%q has no host", redactURL(raw))
		}
	}
}

// natsURLs splits NatsURL at commas, dropping blanks.
func (c Config) natsURLs() []string {
	var out []string
	for _, part := range strings.Split(c.NatsURL, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// listenHostPort splits NatsListen. Port 0 asks for a free port, which the
// NATS server spells -1.
func listenHostPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port must be 0..65535", addr)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}

// redactURL hides the user information of a NATS URL so it can be logged:
// NATS puts tokens in the user part, so url.Redacted is not enough.
func redactURL(raw string) string {
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		scheme := ""
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			scheme = raw[:j+3]
		}
		return scheme + "redacted@" + raw[i+1:]
	}
	return raw
}
