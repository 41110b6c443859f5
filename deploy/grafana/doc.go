// Package grafana holds no code: this directory ships Grafana dashboards
// over the pgcollector datastore (fleet.json, connection.json), and its
// test runs every panel's SQL against a populated datastore so that a
// schema change cannot silently break them.
package grafana
