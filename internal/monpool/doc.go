// Package monpool manages sessions to monitored servers. Each server gets
// one budget of at most MaxConns sessions across all of its databases, idle
// sessions included, so a server with hundreds of databases never sees more
// than the cap. Sessions are pooled (a new connection costs ~100× a pooled
// round trip), closed when idle, rebuilt when the connection row changes,
// and opened with the safety settings every probe session needs.
package monpool
