package text

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mcpload/mcpload/report/summary"
)

// printMCP writes the MCP block of the terminal summary: JSON-RPC errors
// by code, progress, and each tool list's size and input cost.
func printMCP(w io.Writer, m *summary.MCP) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MCP")
	if len(m.RPCErrors) > 0 {
		parts := make([]string, len(m.RPCErrors))
		for i, e := range m.RPCErrors {
			parts[i] = fmt.Sprintf("%s %d (%s)", summary.RPCErrorLabel(e), e.Attempts, Counts(e.ByOutcome))
		}
		fmt.Fprintf(tw, "JSON-RPC errors\t[code name attempts (outcome)]\t%s\n", strings.Join(parts, ", "))
	}
	for _, o := range m.OutputSchema {
		fmt.Fprintf(tw, "Output schema %s\t[results that fail it; first]\t%d; %s\n", o.Key, o.Mismatches, o.Example)
	}
	for _, r := range m.ServerRequests {
		fmt.Fprintf(tw, "Server requests %s\t[requests (answered ok, refused protocol)]\t%d (%s)\n", r.Key, r.Requests, Counts(r.ByOutcome))
	}
	if m.SessionExpired > 0 {
		fmt.Fprintf(tw, "Sessions expired\t[404 on a session, sent again on a new one]\t%d\n", m.SessionExpired)
	}
	if p := m.Progress; p != nil {
		fmt.Fprintf(tw, "Progress\t[notifications, responses, first mean/max]\t%d, %d, %.1fms / %.1fms\n", p.Notifications, p.Attempts, p.FirstMeanMS, p.FirstMaxMS)
	}
	if len(m.Lanes) > 0 {
		fmt.Fprintf(tw, "Lanes\t[protocol: attempts]\t%s\n", Counts(m.LaneTotals()))
	}
	for _, t := range m.ToolsSchema {
		fmt.Fprintf(tw, "Tool schema %s\t[tools, bytes; tokens est. %s]\t%d, %d; %s\n", t.Source, strings.Join(summary.SchemaAPIs(), "/"), t.Tools, t.Bytes, SchemaTokens(t))
		if len(t.Models) > 0 {
			parts := make([]string, len(t.Models))
			for i, mc := range t.Models {
				parts[i] = fmt.Sprintf("%s $%s", mc.Model, USDSmall(mc.USDPer1kCalls))
			}
			fmt.Fprintf(tw, "  input cost\t[USD per 1,000 model calls, est.]\t%s\n", strings.Join(parts, ", "))
		}
	}
	return tw.Flush()
}

// SchemaTokens is a tool list's estimated tokens in each API, "~a / ~b / ~c".
func SchemaTokens(t summary.ToolsSchemaCost) string {
	parts := make([]string, 0, len(summary.SchemaAPIs()))
	for _, api := range summary.SchemaAPIs() {
		parts = append(parts, "~"+strconv.Itoa(t.Dialects[api].TokensEstimated))
	}
	return strings.Join(parts, " / ")
}

// USDSmall formats dollars with the cents, and more digits when small.
func USDSmall(v float64) string {
	if v != 0 && v < 0.01 {
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
