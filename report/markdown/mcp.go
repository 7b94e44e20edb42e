package markdown

import (
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
)

// markdownMCP writes the MCP tables of report.md.
func markdownMCP(b *strings.Builder, m *summary.MCP) {
	if m == nil {
		return
	}
	if len(m.RPCErrors) > 0 {
		b.WriteString("\n| JSON-RPC error | attempts | counted as |\n| --- | ---: | --- |\n")
		for _, e := range m.RPCErrors {
			fmt.Fprintf(b, "| %s | %d | %s |\n", Text(summary.RPCErrorLabel(e)), e.Attempts, Text(text.Counts(e.ByOutcome)))
		}
	}
	if len(m.OutputSchema) > 0 {
		b.WriteString("\n| output schema | results that fail it | first mismatch |\n| --- | ---: | --- |\n")
		for _, o := range m.OutputSchema {
			fmt.Fprintf(b, "| %s | %d | %s |\n", Text(o.Key), o.Mismatches, Text(o.Example))
		}
	}
	if len(m.ServerRequests) > 0 {
		b.WriteString("\n| server request | requests | answered as |\n| --- | ---: | --- |\n")
		for _, r := range m.ServerRequests {
			fmt.Fprintf(b, "| %s | %d | %s |\n", Text(r.Key), r.Requests, Text(text.Counts(r.ByOutcome)))
		}
	}
	if m.SessionExpired > 0 {
		fmt.Fprintf(b, "\nSessions expired: %d attempts were answered 404 on their session and sent again on a new one.\n", m.SessionExpired)
	}
	if p := m.Progress; p != nil {
		fmt.Fprintf(b, "\nProgress notifications: %d on %d responses, the first %.1f ms after the request on average (max %.1f ms).\n", p.Notifications, p.Attempts, p.FirstMeanMS, p.FirstMaxMS)
	}
	if len(m.Lanes) > 0 {
		b.WriteString("\n| MCP attempts | protocol | attempts |\n| --- | --- | ---: |\n")
		for _, l := range m.Lanes {
			fmt.Fprintf(b, "| %s | %s | %d |\n", Text(l.Key), Text(l.Protocol), l.Attempts)
		}
	}
	if len(m.ToolsSchema) > 0 {
		b.WriteString("\n| tool schema | tools | bytes | tokens (est.) " + strings.Join(summary.SchemaAPIs(), " / ") + " | input USD per 1,000 model calls (est.) |\n")
		b.WriteString("| --- | ---: | ---: | ---: | --- |\n")
		for _, t := range m.ToolsSchema {
			parts := make([]string, len(t.Models))
			for i, mc := range t.Models {
				parts[i] = fmt.Sprintf("%s $%s", mc.Model, text.USDSmall(mc.USDPer1kCalls))
			}
			fmt.Fprintf(b, "| %s | %d | %d | %s | %s |\n", Text(t.Source), t.Tools, t.Bytes, text.SchemaTokens(t), Text(orNone(strings.Join(parts, ", "))))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
