package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/scenarios"
)

// mcpRun is a synthetic run with JSON-RPC errors, progress and two
// measures of one tool list (the larger one is reported).
func mcpRun(t *testing.T) string {
	s := synth.New(t, 4)
	s.Attempt(0, 0, 1, "tool:get_weather", 0.1, record.Outcome429)
	s.Attempt(0, 0, 2, "tool:get_weather", 0.2, record.Outcome429)
	s.Attempt(1, 0, 1, "tool:get_weather", 0.3, record.OutcomeTimeout)
	s.Attempt(2, 0, 1, "tool:get_weather", 0.4, record.OutcomeToolError)
	s.Attempt(3, 0, 1, "tool:get_weather", 0.5, record.OutcomeProtocol)
	for i, code := range []int{-32004, -32004, -32003, -32602, -31999} {
		s.Attempts[i].RPCCode = code
	}
	s.Attempt(4, 0, 1, "tool:export", 1, record.OutcomeOK)
	s.Attempts[5].Progress, s.Attempts[5].FirstProgressUS = 4, 2000
	s.Attempt(5, 0, 1, "tool:export", 1.5, record.OutcomeOK)
	s.Attempts[6].Progress, s.Attempts[6].FirstProgressUS = 2, 5000
	for i, n := range []int{1000, 1200} {
		s.Attempt(uint64(6+i), 0, 1, "mcp:tools/tools/list", 2, record.OutcomeOK)
		a := &s.Attempts[len(s.Attempts)-1]
		a.Kind = record.StepMCP
		a.ToolsSchema = &record.ToolsSchema{Tools: n / 100, Bytes: n, DialectBytes: map[string]int{"openai": n + 100, "anthropic": n + 50, "gemini": n - 3}}
	}
	// A failed list is not measured.
	s.Attempt(9, 0, 1, "mcp:tools/tools/list", 3, record.OutcomeProtocol)
	s.Attempts[len(s.Attempts)-1].ToolsSchema = &record.ToolsSchema{Tools: 999, Bytes: 99999}
	// The lanes the attempts spoke: export in the stateless lane, the
	// lists in an initialize session.
	for i := 5; i <= 9; i++ {
		s.Attempts[i].MCPProtocol = map[bool]string{true: "2026-07-28", false: "2025-11-25"}[i < 7]
	}
	// Two requests from a server, one answered and one refused, and an
	// expired session.
	s.Attempt(10, 0, 1, "mcp:tools/roots/list", 0.1, record.OutcomeOK)
	s.Attempt(10, 0, 1, "mcp:tools/unsupported", 0.1, record.OutcomeProtocol)
	s.Attempts[len(s.Attempts)-2].Kind = record.KindServerRequest
	s.Attempts[len(s.Attempts)-1].Kind = record.KindServerRequest
	s.Attempt(11, 0, 1, "tool:export", 1, record.OutcomeSessionExpired)
	return s.Write()
}

func TestSummarizeMCP(t *testing.T) {
	dir := mcpRun(t)
	s, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]uint64{"-32004": 2, "-32003": 1, "-32602": 1, "-31999": 1}; !reflect.DeepEqual(s.Attempts.ByRPCCode, want) {
		t.Errorf("by_rpc_code %v, want %v", s.Attempts.ByRPCCode, want)
	}
	m := s.MCP
	if m == nil {
		t.Fatal("no mcp section")
	}
	wantErrs := []summary.RPCErrorCount{
		{Code: -32602, Name: "invalid params", Attempts: 1, ByOutcome: map[string]uint64{"tool_error": 1}},
		{Code: -32004, Name: "rate limited", Attempts: 2, ByOutcome: map[string]uint64{"429": 2}},
		{Code: -32003, Name: "timeout", Attempts: 1, ByOutcome: map[string]uint64{"timeout": 1}},
		{Code: -31999, Name: "", Attempts: 1, ByOutcome: map[string]uint64{"protocol": 1}},
	}
	if !reflect.DeepEqual(m.RPCErrors, wantErrs) {
		t.Errorf("rpc_errors %+v, want %+v", m.RPCErrors, wantErrs)
	}
	if p := m.Progress; p == nil || p.Notifications != 6 || p.Attempts != 2 || p.FirstMeanMS != 3.5 || p.FirstMaxMS != 5 {
		t.Errorf("progress %+v", p)
	}
	if len(m.ToolsSchema) != 2 {
		t.Fatalf("tools_schema %+v", m.ToolsSchema)
	}

	// The scenario's tools, as the conversation sends them, priced on its
	// models that the catalog knows (gpt-4.1-mini; not gpt-4.1-nano).
	sc := m.ToolsSchema[0]
	tools := []*scenarios.Tool{{Name: "get_weather", InputSchema: map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}}}}
	dialects, _ := scenarios.ToolsBytes(tools)
	mcpBytes, _ := scenarios.MCPToolsBytes(tools)
	if sc.Source != "scenario" || sc.Tools != 1 || sc.Bytes != mcpBytes || sc.Lists != 0 {
		t.Errorf("scenario schema %+v", sc)
	}
	for api, n := range dialects {
		if d := sc.Dialects[api]; d.Bytes != n || d.TokensEstimated != (n+3)/4 {
			t.Errorf("%s: %+v, want %d bytes", api, d, n)
		}
	}
	price, _ := pricing.Default().Lookup("gpt-4.1-mini")
	if len(sc.Models) != 1 || sc.Models[0].Model != "gpt-4.1-mini" || sc.Models[0].API != "openai" || sc.Models[0].InputPerMTok != price.Input {
		t.Fatalf("scenario models %+v", sc.Models)
	}
	tok := sc.Dialects["openai"].TokensEstimated
	if got, want := sc.Models[0].USDPer1kCalls, float64(tok)*price.Input/1000; math.Abs(got-want) > 1e-6 {
		t.Errorf("usd per 1k calls %v, want %v", got, want)
	}

	// The tools/list: the largest of the ok lists.
	tl := m.ToolsSchema[1]
	if tl.Source != "mcp:tools/tools/list" || tl.Tools != 12 || tl.Bytes != 1200 || tl.Lists != 2 {
		t.Errorf("tools/list schema %+v", tl)
	}
	if d := tl.Dialects["gemini"]; d.Bytes != 1197 || d.TokensEstimated != 300 {
		t.Errorf("gemini %+v", d)
	}

	wantLanes := []summary.MCPLane{
		{Key: "mcp:tools/tools/list", Protocol: "2025-11-25", Attempts: 3},
		{Key: "tool:export", Protocol: "2026-07-28", Attempts: 2},
	}
	if !reflect.DeepEqual(m.Lanes, wantLanes) {
		t.Errorf("lanes %+v, want %+v", m.Lanes, wantLanes)
	}

	wantReqs := []summary.ServerRequestCount{
		{Key: "mcp:tools/roots/list", Requests: 1, ByOutcome: map[string]uint64{"ok": 1}},
		{Key: "mcp:tools/unsupported", Requests: 1, ByOutcome: map[string]uint64{"protocol": 1}},
	}
	if !reflect.DeepEqual(m.ServerRequests, wantReqs) || m.SessionExpired != 1 {
		t.Errorf("server requests %+v, sessions expired %d", m.ServerRequests, m.SessionExpired)
	}

	// summary.json carries both, under their names.
	b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"attempts.by_rpc_code.-32004", "mcp.rpc_errors", "mcp.progress.first_mean_ms", "mcp.tools_schema", "mcp.lanes"} {
		if _, ok := synth.Lookup(doc, path); !ok {
			t.Errorf("summary.json has no %s", path)
		}
	}

	// The text and Markdown reports name the codes.
	var out bytes.Buffer
	if err := text.Print(&out, s); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, markdown.File))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-32004 rate limited 2 (429 2)", "-32602 invalid params", "-31999 1", "Progress", "6, 2, 3.5ms / 5.0ms", "Tool schema mcp:tools/tools/list", "gpt-4.1-mini $", "Lanes", "2025-11-25 3, 2026-07-28 2", "Server requests mcp:tools/unsupported", "1 (protocol 1)", "Sessions expired"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"| -32004 rate limited | 2 | 429 2 |", "| -32003 timeout | 1 | timeout 1 |", "Progress notifications: 6 on 2 responses", "| mcp:tools/tools/list | 12 | 1200 |", "| tool:export | 2026-07-28 | 2 |", "| mcp:tools/roots/list | 1 | ok 1 |", "Sessions expired: 1 attempts"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
}

// A run with no MCP measure has no mcp section; an MCP-direct run prices a
// tool list on every model of the catalog, each in its provider's API.
