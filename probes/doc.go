// Package probes is the probe catalogue as data: one file per probe, each a
// Probe value with its stored columns and SQL per server version, listed in
// one explicit registry slice, All. It imports no other project package:
// stages read it, it reads nothing.
package probes
