package htmlreport

import (
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// mcpSection shows the run's MCP measures: JSON-RPC errors by code,
// progress notifications, and each tool list's size and input cost.
func mcpSection(m *summary.MCP) *section {
	sec := &section{ID: "mcp", Title: "MCP"}
	if len(m.RPCErrors) > 0 {
		t := &table{
			Title: "JSON-RPC errors", Narrow: true,
			Cols:  cols("code", "#attempts", "counted as"),
			Intro: "Attempts an MCP server answered with a JSON-RPC error, by code. -32003 (timeout) counts as a timeout and -32004 (rate limited) as a 429, so that retries treat them alike; on a tool, resource or prompt, -32001, -32002 and -32602 are tool errors; the rest are protocol failures.",
		}
		for _, e := range m.RPCErrors {
			t.add(cell{Text: summary.RPCErrorLabel(e)}, cell{Text: count(e.Attempts)}, cell{Text: counts(e.ByOutcome)})
		}
		sec.Tables = append(sec.Tables, t)
	}
	if len(m.OutputSchema) > 0 {
		t := &table{
			Title: "Output schema mismatches", Narrow: true,
			Cols:  cols("tool", "#results", "first mismatch"),
			Intro: "tools/call results whose structuredContent failed the tool's outputSchema. Their outcome is unchanged: a mismatch is counted, not failed.",
		}
		for _, o := range m.OutputSchema {
			t.add(cell{Text: o.Key}, cell{Text: count(o.Mismatches)}, cell{Text: o.Example, Wrap: true})
		}
		sec.Tables = append(sec.Tables, t)
	}
	if len(m.ServerRequests) > 0 {
		t := &table{
			Title: "Server requests", Narrow: true,
			Cols:  cols("attempt key", "#requests", "answered as"),
			Intro: "Requests the servers sent mcpload's client (roots/list, sampling/createMessage, elicitation/create, ping, anything else): answered as the scenario scripts them (ok), or refused with a JSON-RPC error (protocol). Their latency, arrival to answer, is the attempt level of each key.",
		}
		for _, r := range m.ServerRequests {
			t.add(cell{Text: r.Key}, cell{Text: count(r.Requests)}, cell{Text: counts(r.ByOutcome)})
		}
		sec.Tables = append(sec.Tables, t)
	}
	if m.SessionExpired > 0 {
		sec.Facts = append(sec.Facts, fact{
			Label: "Sessions expired",
			Value: fmt.Sprintf("%s attempts were answered 404 on their session, and each was sent again once on a new session", count(m.SessionExpired)),
		})
	}
	if p := m.Progress; p != nil {
		sec.Facts = append(sec.Facts, fact{
			Label: "Progress notifications",
			Value: fmt.Sprintf("%s on %s responses; the first %s after the request on average, %s at most", count(p.Notifications), count(p.Attempts), latency(p.FirstMeanMS), latency(p.FirstMaxMS)),
		})
	}
	if len(m.Lanes) > 0 {
		t := &table{
			Title: "Protocol lanes", Narrow: true,
			Cols:  cols("attempt key", "protocol", "#attempts"),
			Intro: "The MCP revision each key's attempts spoke: 2026-07-28 is the stateless lane, 2024-11-05 HTTP+SSE, the others initialize sessions. With protocol: auto this is the lane each server negotiated.",
		}
		for _, l := range m.Lanes {
			t.add(cell{Text: l.Key}, cell{Text: l.Protocol}, cell{Text: count(l.Attempts)})
		}
		sec.Tables = append(sec.Tables, t)
	}
	if len(m.ToolsSchema) > 0 {
		heads := []string{"tool list", "#tools", "#bytes"}
		for _, api := range summary.SchemaAPIs() {
			heads = append(heads, "#"+api+" tokens")
		}
		heads = append(heads, "input cost per 1,000 model calls")
		t := &table{
			Title: "Tool schemas",
			Cols:  cols(heads...),
			Intro: "The tools a model is offered on every call, as each API's request carries them: tokens are estimated at 4 bytes each, not counted by a tokenizer; the cost is that many input tokens at each model's input price. \"scenario\" is the scenario's tools, which a conversation sends; mcp:SERVER/tools/list is the largest list a tools/list operation got.",
		}
		for _, ts := range m.ToolsSchema {
			row := []cell{{Text: ts.Source}, {Text: count(ts.Tools)}, {Text: count(ts.Bytes)}}
			for _, api := range summary.SchemaAPIs() {
				row = append(row, cell{Text: "~" + count(ts.Dialects[api].TokensEstimated)})
			}
			parts := make([]string, len(ts.Models))
			for i, mc := range ts.Models {
				parts[i] = mc.Model + " " + usd(mc.USDPer1kCalls)
			}
			cost := dash
			if len(parts) > 0 {
				cost = strings.Join(parts, ", ")
			}
			row = append(row, cell{Text: cost, Wrap: true})
			t.add(row...)
		}
		sec.Tables = append(sec.Tables, t)
	}
	return sec
}
