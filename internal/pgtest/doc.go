// Package pgtest owns the throwaway PostgreSQL clusters that tests, `make
// demo` and benchmarks run against: it finds the server binaries for a major
// version (Debian's packages or the builds that scripts/fetch-pg.sh caches),
// runs initdb into a fresh directory under os.TempDir(), starts the postmaster
// as a child process on a free 127.0.0.1 port, and stops it and removes every
// file again. Start ties a cluster to a test; StartCluster returns one whose
// caller calls Close.
//
// When the tests run as root (as CI does), the server binaries run as the
// unprivileged user postgres (or pgctest, created on demand), because initdb
// and postgres refuse to run as root; every path the server reads is made
// accessible to that user.
//
// The postmaster is a direct child of the calling process rather than a
// pg_ctl daemon, so that it dies with the test binary (Pdeathsig) even when a
// test panics or times out, and never outlives the run that started it.
//
// The matrix of majors the tests run on comes from PGC_TEST_PG_VERSIONS
// (default 15); the cache of downloaded builds from PGC_PG_CACHE (default
// /var/tmp/pgcollector/pg).
package pgtest
