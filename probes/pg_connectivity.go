package probes

// pgConnectivity is the round-trip probe: the fetcher times this query
// itself, fills response_time_ms, and stores a row with up = false and the
// error when the server cannot be reached, so outages are samples too.
var pgConnectivity = Probe{
	Name:            "pg_connectivity",
	Scope:           ScopeServer,
	Description:     "Whether the server answers, and its round-trip time in milliseconds.",
	IntervalSeconds: 30,
	RetentionDays:   7,
	RoundTrip:       true,
	Columns: []Column{
		{"up", "boolean"},
		{"response_time_ms", "double precision"},
		{"error", "text"},
	},
	Queries: []Versioned{{MinVersion: 140000,
		SQL: "SELECT true::boolean AS up, NULL::double precision AS response_time_ms, NULL::text AS error"}},
}
