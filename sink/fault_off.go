//go:build !pgc_faults

package sink

// faultAfterCommit is the crash hook of fault_on.go, absent from normal
// builds: no environment variable can make a production sink misbehave.
func faultAfterCommit() func() error { return nil }
