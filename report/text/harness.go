package text

import (
	"fmt"
	"io"

	"github.com/mcpload/mcpload/report/summary"
)

// PrintHarnessWarnings writes each harness warning of s as one line, for
// the end of a run on stderr, where CI logs keep it too.
func PrintHarnessWarnings(w io.Writer, s *summary.Summary) {
	if s == nil || s.Harness == nil {
		return
	}
	for _, msg := range s.Harness.Warnings {
		fmt.Fprintf(w, "WARNING (harness): %s\n", msg)
	}
}

// printHarness writes the terminal's line of harness figures.
func printHarness(w io.Writer, h *summary.Harness) {
	if h == nil {
		return
	}
	lag := "—"
	if l := h.ScheduleLag; l != nil {
		lag = fmt.Sprintf("%s, %s, %s", summary.USText(l.P50), summary.USText(l.P99), summary.USText(l.Max))
	}
	fmt.Fprintf(w, "Harness\t[lag p50, p99, max; cpu mean, max of cores]\t%s; %.2f, %.2f of %d\n", lag, h.CPU.MeanCores, h.CPU.MaxCores, h.CPU.Cores)
}

// printLocal writes the terminal's line for l, if any: apart from the
// target's failures, and saying whose limit it was.
func printLocal(w io.Writer, l *summary.Local) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "Harness limit\t[local attempts, conversations]\t%d, %d: %s\n", l.Attempts, l.Conversations, summary.LocalNote)
}
