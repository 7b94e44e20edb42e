package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mcpload/mcpload/scenarios"
)

// RPCErrorLabel is a JSON-RPC error code with its name: "-32004 rate
// limited", or the code alone when it has none.
func RPCErrorLabel(e RPCErrorCount) string {
	if e.Name == "" {
		return strconv.Itoa(e.Code)
	}
	return strconv.Itoa(e.Code) + " " + e.Name
}

// SchemaAPIs lists the APIs of a tool list's dialects, in report order.
func SchemaAPIs() []string { return scenarios.APIs() }

// printMCP writes the MCP block of the terminal summary: JSON-RPC errors
// by code, progress, and each tool list's size and input cost.
func printMCP(w io.Writer, m *MCP) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MCP")
	if len(m.RPCErrors) > 0 {
		parts := make([]string, len(m.RPCErrors))
		for i, e := range m.RPCErrors {
			parts[i] = fmt.Sprintf("%s %d (%s)", RPCErrorLabel(e), e.Attempts, counts(e.ByOutcome))
		}
		fmt.Fprintf(tw, "JSON-RPC errors\t[code name attempts (outcome)]\t%s\n", strings.Join(parts, ", "))
	}
	for _, o := range m.OutputSchema {
		fmt.Fprintf(tw, "Output schema %s\t[results that fail it; first]\t%d; %s\n", o.Key, o.Mismatches, o.Example)
	}
	if p := m.Progress; p != nil {
		fmt.Fprintf(tw, "Progress\t[notifications, responses, first mean/max]\t%d, %d, %.1fms / %.1fms\n", p.Notifications, p.Attempts, p.FirstMeanMS, p.FirstMaxMS)
	}
	if len(m.Lanes) > 0 {
		fmt.Fprintf(tw, "Lanes\t[protocol: attempts]\t%s\n", counts(m.LaneTotals()))
	}
	for _, t := range m.ToolsSchema {
		fmt.Fprintf(tw, "Tool schema %s\t[tools, bytes; tokens est. %s]\t%d, %d; %s\n", t.Source, strings.Join(SchemaAPIs(), "/"), t.Tools, t.Bytes, schemaTokens(t))
		if len(t.Models) > 0 {
			parts := make([]string, len(t.Models))
			for i, mc := range t.Models {
				parts[i] = fmt.Sprintf("%s $%s", mc.Model, usdSmall(mc.USDPer1kCalls))
			}
			fmt.Fprintf(tw, "  input cost\t[USD per 1,000 model calls, est.]\t%s\n", strings.Join(parts, ", "))
		}
	}
	return tw.Flush()
}

// schemaTokens is a tool list's estimated tokens in each API, "~a / ~b / ~c".
func schemaTokens(t ToolsSchemaCost) string {
	parts := make([]string, 0, len(SchemaAPIs()))
	for _, api := range SchemaAPIs() {
		parts = append(parts, "~"+strconv.Itoa(t.Dialects[api].TokensEstimated))
	}
	return strings.Join(parts, " / ")
}

// usdSmall formats dollars with the cents, and more digits when small.
func usdSmall(v float64) string {
	if v != 0 && v < 0.01 {
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// markdownMCP writes the MCP tables of report.md.
func markdownMCP(b *strings.Builder, m *MCP) {
	if m == nil {
		return
	}
	if len(m.RPCErrors) > 0 {
		b.WriteString("\n| JSON-RPC error | attempts | counted as |\n| --- | ---: | --- |\n")
		for _, e := range m.RPCErrors {
			fmt.Fprintf(b, "| %s | %d | %s |\n", mdText(RPCErrorLabel(e)), e.Attempts, mdText(counts(e.ByOutcome)))
		}
	}
	if len(m.OutputSchema) > 0 {
		b.WriteString("\n| output schema | results that fail it | first mismatch |\n| --- | ---: | --- |\n")
		for _, o := range m.OutputSchema {
			fmt.Fprintf(b, "| %s | %d | %s |\n", mdText(o.Key), o.Mismatches, mdText(o.Example))
		}
	}
	if p := m.Progress; p != nil {
		fmt.Fprintf(b, "\nProgress notifications: %d on %d responses, the first %.1f ms after the request on average (max %.1f ms).\n", p.Notifications, p.Attempts, p.FirstMeanMS, p.FirstMaxMS)
	}
	if len(m.Lanes) > 0 {
		b.WriteString("\n| MCP attempts | protocol | attempts |\n| --- | --- | ---: |\n")
		for _, l := range m.Lanes {
			fmt.Fprintf(b, "| %s | %s | %d |\n", mdText(l.Key), mdText(l.Protocol), l.Attempts)
		}
	}
	if len(m.ToolsSchema) > 0 {
		b.WriteString("\n| tool schema | tools | bytes | tokens (est.) " + strings.Join(SchemaAPIs(), " / ") + " | input USD per 1,000 model calls (est.) |\n")
		b.WriteString("| --- | ---: | ---: | ---: | --- |\n")
		for _, t := range m.ToolsSchema {
			parts := make([]string, len(t.Models))
			for i, mc := range t.Models {
				parts[i] = fmt.Sprintf("%s $%s", mc.Model, usdSmall(mc.USDPer1kCalls))
			}
			fmt.Fprintf(b, "| %s | %d | %d | %s | %s |\n", mdText(t.Source), t.Tools, t.Bytes, schemaTokens(t), mdText(orNone(strings.Join(parts, ", "))))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// LaneTotals sums the MCP attempts by the protocol revision they spoke.
func (m *MCP) LaneTotals() map[string]uint64 {
	out := make(map[string]uint64, 2)
	for _, l := range m.Lanes {
		out[l.Protocol] += l.Attempts
	}
	return out
}
