//go:build pgc_faults

package sink

import (
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// faultEnv names the variable that, in a binary built with the pgc_faults
// tag (and only there), kills the process with SIGKILL right after its Nth
// committed write and before that write's messages are acknowledged: the
// moment a crash is most likely to store something twice. The end-to-end
// durability tests build such a binary; release builds never contain this.
const faultEnv = "PGC_SINK_FAULT_AFTER_COMMIT"

func faultAfterCommit() func() error {
	n, err := strconv.ParseInt(os.Getenv(faultEnv), 10, 64)
	if err != nil || n < 1 {
		return nil
	}
	var commits atomic.Int64
	return func() error {
		if commits.Add(1) >= n {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way; never acknowledge
		}
		return nil
	}
}
