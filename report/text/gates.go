package text

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mcpload/mcpload/report/summary"
)

// measuredText is what a reader compares with the limit: the measured
// value with its unit, or why there is none.
func measuredText(t summary.Threshold) string {
	if t.Measured != "" {
		return "measured " + t.Measured
	}
	return t.Note
}

// printThresholds writes the Thresholds block of the terminal summary:
// ✓ or ✗, the expression, and the measured value beside it.
func printThresholds(w io.Writer, ts []summary.Threshold) {
	if len(ts) == 0 {
		return
	}
	width := 0
	for _, t := range ts {
		width = max(width, len([]rune(t.Expr)))
	}
	fmt.Fprintln(w, "Thresholds")
	for _, t := range ts {
		mark := "✓"
		if !t.Pass {
			mark = "✗"
		}
		line := fmt.Sprintf("  %s %-*s  %s", mark, width, t.Expr, measuredText(t))
		if t.Measured != "" && t.Note != "" {
			line += " (" + t.Note + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// claimMark is a verdict's mark in text and Markdown.
func claimMark(verdict string) string {
	switch verdict {
	case summary.ClaimHolds:
		return "✓"
	case summary.ClaimRefuted:
		return "✗"
	}
	return "?"
}

// printClaims writes the Claims block of the terminal summary: the
// verdict, the claim, the estimate and its 95% interval, and n.
func printClaims(w io.Writer, cs []summary.Claim) error {
	if len(cs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "Claims (95% intervals)")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range cs {
		measured := "—"
		if c.Measured != "" {
			measured = c.Measured + " " + c.Range
		}
		line := fmt.Sprintf("  %s %s\t%s\t%s\t%s\tn=%d", claimMark(c.Verdict), c.Name, c.Verdict, c.Expect, measured, c.Interval.N)
		if c.Note != "" {
			line += " (" + c.Note + ")"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
