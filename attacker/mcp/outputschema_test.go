package mcp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// weatherOutputs is the compiled outputSchema of a tool "weather" that
// returns {temp: number}.
func weatherOutputs(t testing.TB) OutputSchemas {
	outs, err := CompileOutputSchemas([]*scenarios.Tool{{Name: "weather", Server: "s",
		OutputSchema: map[string]any{"type": "object", "properties": map[string]any{"temp": map[string]any{"type": "number"}}, "required": []any{"temp"}}}}, "s")
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

// TestOutputSchemaCheck: each result of a tool with an outputSchema is
// checked (a missing structuredContent fails too, as the TypeScript SDK's
// client has it); an isError result and other tools are not; the outcome
// never changes.
func TestOutputSchemaCheck(t *testing.T) {
	c := &conn{outputs: weatherOutputs(t)}
	for _, tc := range []struct {
		tool, result, want string
	}{
		{"weather", `{"content":[],"structuredContent":{"temp":21}}`, ""},
		{"weather", `{"content":[],"structuredContent":{"temp":"hot"}}`, "does not match the outputSchema"},
		{"weather", `{"content":[{"type":"text","text":"21"}]}`, "no structuredContent"},
		{"weather", `{"content":[],"structuredContent":null}`, "no structuredContent"},
		{"weather", `{"content":[{"type":"text","text":"down"}],"isError":true}`, ""},
		{"other", `{"content":[],"structuredContent":{"temp":"hot"}}`, ""},
	} {
		call := Result{Exchange: Exchange{Outcome: record.OutcomeOK}}
		c.readResult(ToolCall(tc.tool, nil, false), json.RawMessage(tc.result), &call)
		if tc.want == "" && call.OutputSchemaErr != "" || !strings.Contains(call.OutputSchemaErr, tc.want) {
			t.Errorf("%s %s: %q, want %q", tc.tool, tc.result, call.OutputSchemaErr, tc.want)
		}
		if strings.Contains(tc.result, "isError") != (call.Outcome == record.OutcomeToolError) {
			t.Errorf("%s %s: outcome %s", tc.tool, tc.result, call.Outcome)
		}
	}
}

// BenchmarkToolResult is the cost of reading a tools/call result without
// and with an outputSchema to check.
func BenchmarkToolResult(b *testing.B) {
	result := json.RawMessage(`{"content":[{"type":"text","text":"{\"temp\":21,\"conditions\":\"humid, partly cloudy\"}"}],"structuredContent":{"temp":21,"conditions":"humid, partly cloudy"}}`)
	req := ToolCall("weather", nil, false)
	for _, bc := range []struct {
		name    string
		outputs OutputSchemas
	}{{"no-schema", nil}, {"schema", weatherOutputs(b)}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &conn{outputs: bc.outputs}
			b.ReportAllocs()
			for b.Loop() {
				var call Result
				c.readResult(req, result, &call)
				if call.OutputSchemaErr != "" {
					b.Fatal(call.OutputSchemaErr)
				}
			}
		})
	}
}
