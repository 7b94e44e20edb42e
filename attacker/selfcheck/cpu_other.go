//go:build !unix

package selfcheck

import (
	"runtime/metrics"
	"time"
)

// processCPU returns the runtime's estimate of the process's CPU time,
// where there is no getrusage.
func processCPU(samples []metrics.Sample) time.Duration { return runtimeCPU(samples) }
