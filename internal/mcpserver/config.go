package mcpserver

// Config is the MCP endpoint's configuration.
type Config struct {
	Enabled bool `envconfig:"MCP_ENABLED" default:"false" desc:"serve the MCP endpoint for AI assistants at /mcp on PGC_HTTP_ADDR (each request needs a bearer API token)"`
}

// Path is where the endpoint is mounted on the HTTP server.
const Path = "/mcp"
