// Package tokenrate is the per-token request budget of every endpoint that
// takes bearer API tokens: the REST API (and the fleet page's JSON it
// guards) and the MCP endpoint. One Limiter is shared by all of them, so a
// token gets PGC_API_RATE requests per second (bursts of PGC_API_BURST) in
// total, whichever door it uses; a refused request is answered 429 with
// Retry-After by the caller.
package tokenrate
