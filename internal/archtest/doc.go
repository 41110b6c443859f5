// Package archtest holds no code, only the test that enforces the import
// direction of docs/design.md: probes and bus import no project package, no
// stage imports another stage, and only cmd (and the benchmarks in bench) import the stages.
package archtest
