package htmlreport

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/summary"
)

func TestMCPSection(t *testing.T) {
	dir := t.TempDir()
	plots := writeFixtureRun(t, dir, 3)
	s := fixtureSummary()
	s.MCP = &summary.MCP{
		RPCErrors:    []summary.RPCErrorCount{{Code: -32004, Name: "rate limited", Attempts: 12, ByOutcome: map[string]uint64{"429": 12}}},
		Progress:     &summary.MCPProgress{Notifications: 40, Attempts: 10, FirstMeanMS: 1.25, FirstMaxMS: 3},
		OutputSchema: []summary.OutputSchemaCount{{Key: "tool:weather", Mismatches: 1234, Example: "structuredContent does not match the outputSchema: temp"}},
		ToolsSchema: []summary.ToolsSchemaCost{{
			Source: "mcp:tools/tools/list", Tools: 302, Bytes: 258454,
			Dialects: map[string]summary.DialectSchema{"openai": {Bytes: 267514, TokensEstimated: 66879}, "anthropic": {TokensEstimated: 64689}, "gemini": {TokensEstimated: 61652}},
			Models:   []summary.SchemaModelCost{{Model: "gpt-4.1", API: "openai", TokensEstimated: 66879, InputPerMTok: 2, USDPer1kCalls: 133.758}},
		}},
	}
	if err := Write(dir, s, plots); err != nil {
		t.Fatal(err)
	}
	page := readPage(t, dir)
	i := strings.Index(page, `id="mcp"`)
	if i < 0 {
		t.Fatal("no MCP section")
	}
	sec := page[i:]
	if j := strings.Index(sec[1:], `<section`); j > 0 {
		sec = sec[:j+1]
	}
	for _, want := range []string{"-32004 rate limited", ">12<", "429 12", "40 on 10 responses; the first 1.2 ms after the request on average, 3.0 ms at most", "mcp:tools/tools/list", "258,454", "~66,879", "~61,652", "gpt-4.1 $133.76", "Output schema mismatches", "tool:weather", "1,234", "does not match the outputSchema: temp"} {
		if !strings.Contains(sec, want) {
			t.Errorf("MCP section lacks %q:\n%s", want, sec)
		}
	}
	// Without MCP measures there is no section.
	s.MCP = nil
	dir2 := t.TempDir()
	if err := Write(dir2, s, writeFixtureRun(t, dir2, 3)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(readPage(t, dir2), `id="mcp"`) {
		t.Error("an MCP section without MCP measures")
	}
}
