package thresholds

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/internal/sample"
	"github.com/mcpload/mcpload/report/summary"
)

func TestEvaluateThresholds(t *testing.T) {
	cases := []struct {
		expr     string
		value    float64
		pass     bool
		measured string
		note     string
	}{
		// Latency levels, units and statistics.
		{"conversation.p99 < 2s", 2410, false, "2.41s", ""},
		{"conversation.p99 < 2500ms", 2410, true, "2.41s", ""},
		{"conversation.p99.9 < 1m", 3615, true, "3.615s", ""},
		{"service.p50 <= 140ms", 140, true, "140ms", ""},
		{"conversation.count >= 190", 190, true, "190", ""},
		{"conversation.min > 100us", 37.5, true, "37.5ms", ""},
		// Keyed levels: the max over matching keys for <, the min for >.
		{"step.model.p95 < 800ms", 850, false, "850ms", "model:secondary of 2 keys"},
		{"step.model{provider=primary}.p95 < 800ms", 700, true, "700ms", ""},
		{"step.model.p50 > 70ms", 60, false, "60ms", "model:primary of 2 keys"},
		{"attempt.model{provider=primary}.p99 <= 950ms", 950, true, "950ms", "model:primary/gpt-4.1 of 2 keys"},
		{"attempt.model{model=gpt-4.1-mini}.p99 < 1s", 900, true, "900ms", ""},
		{"attempt.model{provider=primary,model=gpt-4.1}.count == 10", 10, true, "10", ""},
		// == over several keys: every key must hold; the first that breaks it is reported.
		{"step.model.count == 380", 20, false, "20", "model:secondary of 2 keys"},
		{"step.model.count != 0", 380, true, "380", "model:primary of 2 keys"},
		{"attempt.tool{tool=get_weather}.max < 100ms", 62, true, "62ms", ""},
		{"step.tool.p99 < 50ms", 31, true, "31ms", ""},
		// Rates, counts, ratios.
		{"success_rate >= 99.9%", 95, false, "95%", ""},
		{"success_rate >= 95%", 95, true, "95%", ""},
		{"error_rate < 5%", 5, false, "5%", ""},
		{"dropped == 0", 4, false, "4", ""},
		{"failed <= 6", 6, true, "6", ""},
		{"ok > 100", 190, true, "190", ""},
		{"started != 0", 196, true, "196", ""},
		{"retries < 20", 12, true, "12", ""},
		{"fallbacks == 3", 3, true, "3", ""},
		{"invalid_tool_args == 0", 2, false, "2", ""},
		{"retry_amplification <= 1.2", 1.05, true, "1.05", ""},
		{"rate.achieved >= 19.5/s", 19.9, true, "19.9/s", ""},
		{"rate.throughput > 19", 19, false, "19/s", ""},
		{"tokens.prompt < 2000", 1000, true, "1000", ""},
		{"tokens.completion < 100", 200, false, "200", ""},
		// Goodput without an analysis: the success rate stands in.
		{"goodput >= 90%", 95, true, "95%", "no goodput analysis: the success rate stands in"},
	}
	s := sample.Summary()
	exprs := make([]string, len(cases))
	for i, tc := range cases {
		exprs[i] = tc.expr
	}
	got := Evaluate(s, exprs)
	if len(got) != len(cases) {
		t.Fatalf("%d results, want %d", len(got), len(cases))
	}
	for i, tc := range cases {
		g := got[i]
		if g.Expr != tc.expr || g.Value != tc.value || g.Pass != tc.pass || g.Measured != tc.measured || g.Note != tc.note {
			t.Errorf("%s: got value %v pass %v measured %q note %q\nwant value %v pass %v measured %q note %q",
				tc.expr, g.Value, g.Pass, g.Measured, g.Note, tc.value, tc.pass, tc.measured, tc.note)
		}
	}
}

func TestEvaluateThresholdsWithoutValue(t *testing.T) {
	s := sample.Summary()
	for _, tc := range []struct{ expr, note string }{
		{"cost.per_conversation_usd < 0.002", "no value: the run has no cost section"},
		{"ttft.model.p99 < 1s", "no value: no ok ttft latencies match ttft.model"},
		{"step.model{provider=nope}.p95 < 1s", "no value: no ok step latencies match step.model{provider=nope}"},
		// Step keys name the provider alone: a model filter matches none.
		{"step.model{model=gpt-4.1}.p95 < 1s", "no value: no ok step latencies match"},
		{"conversation.p99 < 1s oops", "invalid expression: expected a latency"},
	} {
		got := Evaluate(s, []string{tc.expr})[0]
		if got.Pass || got.Measured != "" || !strings.HasPrefix(got.Note, tc.note) {
			t.Errorf("%s: %+v, want a failure noted %q", tc.expr, got, tc.note)
		}
	}
	empty := &summary.Summary{}
	for _, expr := range []string{"conversation.p50 < 1s", "success_rate > 0%", "retry_amplification < 2", "goodput > 0%"} {
		if got := Evaluate(empty, []string{expr})[0]; got.Pass || !strings.HasPrefix(got.Note, "no value: ") {
			t.Errorf("%s on an empty run: %+v, want a failure with no value", expr, got)
		}
	}
	s.Cost = &cost.Cost{TotalUSD: 0.392}
	got := Evaluate(s, []string{"cost.per_conversation_usd < 0.002", "cost.per_successful_conversation_usd < 0.002", "cost.total_usd < $1"})
	if got[0].Value != 0.002 || got[0].Pass || got[1].Value != 0.392/190 || got[1].Pass || !got[2].Pass {
		t.Errorf("cost thresholds = %+v", got)
	}
}

// TestEvaluateMCPOps: step.mcp and attempt.mcp read the MCP-direct
// operations' keys by op and by the tool, resource or prompt they name.
func TestEvaluateMCPOps(t *testing.T) {
	st := func(p95 float64) *summary.Stats { return &summary.Stats{Count: 10, P95: p95} }
	s := &summary.Summary{}
	s.LatencyMS.Step = map[string]*summary.Stats{
		"tool:search_docs": st(20), "mcp:tools/tools/list": st(40),
		"resource:docs://a": st(5), "prompt:triage": st(3), "model:p": st(900),
	}
	s.LatencyMS.Attempt = map[string]*summary.Stats{"mcp:tools/initialize": st(7), "mcp:tools/initialized": st(700)}
	for expr, want := range map[string]float64{
		"step.mcp{op=resources/read}.p95 < 1s": 5,
		"step.mcp{uri=docs://a}.p95 < 1s":      5,
		"step.mcp{op=tools/call}.p95 < 1s":     20,
		"step.mcp{prompt=triage}.p95 < 1s":     3,
		"step.mcp.p95 < 1s":                    40, // every op, not the model key
		"attempt.mcp{op=initialize}.p95 < 1s":  7,
		"attempt.mcp.p95 < 1s":                 7, // the notification is no op
	} {
		got := Evaluate(s, []string{expr})[0]
		if !got.Pass || got.Value != want {
			t.Errorf("%s = %+v, want %v", expr, got, want)
		}
	}
	if got := Evaluate(s, []string{"step.mcp{op=tools/list,tool=search_docs}.p95 < 1s"})[0]; got.Pass || got.Measured != "" {
		t.Errorf("a tool filter on tools/list matched: %+v", got)
	}
}
