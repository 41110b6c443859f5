package api

import "fmt"

// Config is the REST API's settings. The API is off by default: turning
// it on exposes connection management to every holder of a token.
type Config struct {
	Enabled       bool    `envconfig:"API_ENABLED" default:"false" desc:"serve the REST API under /api/v1/ on PGC_HTTP_ADDR (bearer tokens: pgcollector token create)"`
	RatePerToken  float64 `envconfig:"API_RATE" default:"10" desc:"sustained API requests per second allowed per token"`
	BurstPerToken int     `envconfig:"API_BURST" default:"20" desc:"API requests a token may send at once above PGC_API_RATE"`
	MaxBodyBytes  int64   `envconfig:"API_MAX_BODY_BYTES" default:"65536" desc:"largest API request body accepted"`
	// AllowPlainHTTP is for a TLS-terminating proxy in front: without it
	// the API refuses to serve tokens in clear off loopback.
	AllowPlainHTTP bool `envconfig:"API_ALLOW_PLAIN_HTTP" default:"false" desc:"serve the API and the MCP endpoint without TLS on a non-loopback PGC_HTTP_ADDR (only behind a TLS-terminating proxy)"`
}

// Validate checks the limits; it names the setting at fault.
func (c Config) Validate() error {
	switch {
	case c.RatePerToken <= 0 || c.RatePerToken > 10000:
		return fmt.Errorf("PGC_API_RATE: must be above 0 and at most 10000, got %g", c.RatePerToken)
	case c.BurstPerToken < 1 || c.BurstPerToken > 10000:
		return fmt.Errorf("PGC_API_BURST: must be 1..10000, got %d", c.BurstPerToken)
	case c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 16<<20:
		return fmt.Errorf("PGC_API_MAX_BODY_BYTES: must be 1024..16777216, got %d", c.MaxBodyBytes)
	}
	return nil
}
