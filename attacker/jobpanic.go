package attacker

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// doJob runs one unit of work in a worker. A panic inside it is a bug in
// mcpload, not in the target: it must not kill the run and every
// conversation in flight with it. It ends that one conversation with the
// harness's own outcome, record.OutcomeLocal, and an error text that says
// where it panicked; the conversation is counted as any other.
func doJob(ctx context.Context, j Job, seq uint64, slot int, sink Sink) (res JobResult) {
	defer func() {
		if v := recover(); v != nil {
			res = JobResult{Outcome: record.OutcomeLocal, Err: fmt.Sprintf("internal error: %v%s", v, panicSite())}
		}
	}()
	return j.Do(ctx, seq, slot, sink)
}

// panicSite names the function, file and line that panicked, called from
// the deferred recover: the first frame below runtime.gopanic that is not
// the runtime's own.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return fmt.Sprintf(" (in %s at %s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
