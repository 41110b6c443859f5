// Package e2e drives the built pgcollector binary the way a user does —
// subcommands, environment variables, signals — against real PostgreSQL
// clusters. The acceptance tests and `make demo` share it.
package e2e
