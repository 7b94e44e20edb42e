// Package markdown writes a run's summary as GitHub Markdown (report.md),
// to fit $GITHUB_STEP_SUMMARY: the verdict first, then the thresholds and
// claims, the counts, the latency table and the cost. It reuses the
// terminal's rows and words (package text).
package markdown

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
)

// File is the run folder's Markdown summary, written to fit
// $GITHUB_STEP_SUMMARY: `cat report.md >> "$GITHUB_STEP_SUMMARY"`.
const File = "report.md"

// Write writes s as GitHub Markdown: the verdict first, then the
// thresholds, the counts, the latency table in ms and the cost.
func Write(w io.Writer, s *summary.Summary) error {
	var b strings.Builder
	failed := thresholds.Failed(s.Thresholds)
	verdict := "✅ PASS"
	switch {
	case s.Status == record.StatusInterrupted:
		verdict = "⚠️ INTERRUPTED"
	case len(failed) > 0 || s.Status == record.StatusAborted:
		verdict = "❌ FAIL"
	}
	fmt.Fprintf(&b, "### mcpload `%s`: %s\n\n", Code(s.Scenario), verdict)
	switch {
	case len(s.Thresholds) == 0:
		b.WriteString("No thresholds were set.")
	case len(s.Thresholds) == 1 && len(failed) == 0:
		b.WriteString("The threshold passed.")
	case len(failed) == 0:
		fmt.Fprintf(&b, "All %d thresholds passed.", len(s.Thresholds))
	default:
		names := make([]string, len(failed))
		for i, t := range failed {
			names[i] = "`" + Code(t.Expr) + "`"
		}
		fmt.Fprintf(&b, "%d of %d thresholds failed: %s.", len(failed), len(s.Thresholds), strings.Join(names, ", "))
	}
	switch s.Status {
	case record.StatusInterrupted:
		b.WriteString(" The run was interrupted: the figures cover the partial run.")
	case record.StatusAborted:
		fmt.Fprintf(&b, " The run stopped itself (%s): the figures cover the partial run.", Text(s.StopReason))
	}
	b.WriteString("\n\n")
	markdownHarness(&b, s.Harness)

	if len(s.Thresholds) > 0 {
		b.WriteString("| | threshold | measured | limit |\n| :---: | --- | ---: | ---: |\n")
		for _, t := range s.Thresholds {
			mark := "✅"
			if !t.Pass {
				mark = "❌"
			}
			measured := t.Measured
			if measured == "" {
				measured = "—"
			}
			if t.Note != "" {
				measured += " (" + Text(t.Note) + ")"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", mark, Code(t.Expr), measured, Text(t.Limit))
		}
		b.WriteString("\n")
	}
	markdownClaims(&b, s.Claims)

	unit := "conversations"
	if s.Kind == "mcp_direct" {
		unit = "operations"
	}
	c := s.Conversations
	fmt.Fprintf(&b, "| %s | started | ok | failed | dropped | success | rate target / achieved / throughput | attempts (amplification) | seed |\n", unit)
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(&b, "| %.2fs of %.2fs | %d | %d | %d | %d | %.2f%% | %.2f / %.2f / %.2f /s | %d (%.2f) | %d |\n\n",
		s.DurationS, s.PlannedS, c.Started, c.OK, c.Failed, c.Dropped, c.SuccessRate,
		s.Rate.Target, s.Rate.Achieved, s.Rate.Throughput, s.Attempts.Total, s.Attempts.Amplification, s.Seed)
	if len(c.ByOutcome) > 0 {
		fmt.Fprintf(&b, "Failures by outcome: %s.\n\n", Text(text.Counts(c.ByOutcome)))
	}
	if l := s.Local; l != nil {
		fmt.Fprintf(&b, "Harness limit: %d attempts, %d conversations local. %s.\n\n", l.Attempts, l.Conversations, Text(l.Note))
	}

	rows := text.LatencyRows(s, unit)
	if len(rows) > 0 {
		b.WriteString("| latency (ms) | count | mean | p50 | p90 | p99 | p99.9 | max |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, r := range rows {
			st := r.Stats
			fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
				Text(r.Name), st.Count, st.Mean, st.P50, st.P90, st.P99, st.P999, st.Max)
		}
	}
	if len(s.Streaming) > 0 {
		b.WriteString("\n| output rate (tokens/s) | streams | overall | per stream p50 | per stream p10 |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
		for _, k := range slices.Sorted(maps.Keys(s.Streaming)) {
			st := s.Streaming[k]
			p50, p10 := "—", "—"
			if p := st.PerStream; p != nil {
				p50, p10 = fmt.Sprintf("%.1f", p.P50), fmt.Sprintf("%.1f", p.P10)
			}
			fmt.Fprintf(&b, "| %s | %d | %.1f | %s | %s |\n", Text(k), st.Streams, st.OutputTokensPerS, p50, p10)
		}
	}
	markdownMCP(&b, s.MCP)
	markdownCost(&b, s.Cost)
	markdownGateway(&b, s.Gateway)
	_, err := io.WriteString(w, b.String())
	return err
}

// Code makes s safe inside a code span in a table cell: a pipe would end
// the cell, and a backtick the span.
func Code(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}

// Text makes s safe as plain text in a table cell.
func Text(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`).Replace(s)
}
