//go:build unix

package selfcheck

import (
	"runtime/metrics"
	"syscall"
	"time"
)

// processCPU returns the process's CPU time, user and system, as the
// kernel counts it: a load generator spends much of its time in system
// calls, which the runtime's own estimate leaves out.
func processCPU(samples []metrics.Sample) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return runtimeCPU(samples)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
