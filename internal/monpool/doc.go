// Package monpool manages sessions to monitored servers. Each server gets
// one budget of at most MaxConns sessions across all of its databases, idle
// sessions included, so a server with hundreds of databases never sees more
// than the cap. Sessions are pooled (a new connection costs ~100× a pooled
// round trip), closed when idle, replaced when the connection row changes
// (sessions of the old settings still borrowed keep counting against the
// cap until released), and opened with the safety settings every probe
// session needs, over the TLS the row asks for.
//
// A failure to open a session is a *ConnectError. One that is the server's
// — unreachable, login refused, TLS — makes the server back off (1 s
// doubling to MaxBackoff) so that a down server is not hammered; one that
// concerns a single database (dropped, no CONNECT) does not.
package monpool
