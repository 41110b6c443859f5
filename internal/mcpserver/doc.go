// Package mcpserver is the MCP (Model Context Protocol) endpoint for AI
// assistants, served at /mcp on the HTTP server when PGC_MCP_ENABLED is
// true. It speaks the streamable HTTP transport of the official Go SDK in
// stateless mode: every POST carries its own bearer API token, checked by
// access.Authenticate before any MCP message is read, so a revoked token
// stops working at the next request and several collectors behind one
// address need no shared session state. Each token's requests are counted
// against the REST API's per-token budget (internal/tokenrate): 429 past it.
//
// The tools (list_connections, get_connection, add_connection,
// update_connection, enable_connection, disable_connection,
// delete_connection, list_probes, set_probe (admins), read_metrics) are
// thin: each one calls internal/access.Service, the
// same code the REST API and the CLI use, so owner isolation (another
// user's connection is "not found"), input validation (errors name the
// field) and the audit log are identical. This package holds no SQL.
//
// Passwords go one way: add_connection and update_connection accept one,
// the service encrypts it, and no tool result, error or log line carries
// it back (has_password says whether one is stored).
package mcpserver
