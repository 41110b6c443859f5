// Package procinfo is the one place the project reads /proc, through
// prometheus/procfs: the state, parent, CPU time and memory of processes
// and threads, for the test harnesses (waiting for a server's processes to
// end, a frozen node's threads to stop) and for the benchmark (CPU and RSS
// of the collector and of monitored clusters). Linux only.
package procinfo
