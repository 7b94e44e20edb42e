package scenarios

import (
	"strings"
	"testing"
)

// TestThresholdScopeErrors: a filter that names no provider, model, tool or
// operation of the scenario, and a metric the scenario cannot produce, fail
// validate at their place inside the expression, with a suggestion.
func TestThresholdScopeErrors(t *testing.T) {
	// afterBase puts "thresholds:" on line 39, its entries from line 40.
	src := edit(t, afterBase("thresholds:\n"+
		"  - step.tool{tool=get_wether}.p95 < 1s\n"+
		"  - step.model{provider=q}.p95 < 1s\n"+
		"  - attempt.model{model=n}.p95 < 1s\n"+
		"  - ttft.model.p95 < 1s\n"+
		"  - step.mcp.p95 < 1s\n"+
		"  - cost.saving > 50%\n"+
		"  - step.tool{tool=search_docs}.p95 < 1s\n")...)
	checkErrors(t, parseErrors(t, src),
		want{"40:20", "thresholds[0]", `unknown tool "get_wether" in this scenario's runs; did you mean "get_weather"?`},
		want{"41:25", "thresholds[1]", `unknown provider "q" in this scenario's runs; did you mean "p"?`},
		want{"42:25", "thresholds[2]", `unknown model "n" in this scenario's runs; did you mean "m"?`},
		want{"43:5", "thresholds[3]", "ttft.model is measured on streamed answers, and no provider that plays in this scenario streams"},
		want{"44:5", "thresholds[4]", "step.mcp measures the operations of an mcp_direct scenario"},
		want{"45:5", "thresholds[5]", "cost.saving compares with a baseline catalog"},
	)
	// A streaming provider has TTFT; a policy's provider plays too.
	ok := edit(t, "    model: m\n", "    model: m\n    stream: true\n")
	ok = editFrom(t, ok, afterBase("policies:\n  - {name: base, client: {timeout: 2s}}\n  - {name: other, provider: q}\nthresholds:\n  - ttft.model{provider=p}.p95 < 1s\n  - step.model{provider=q}.p95 < 1s\n", secondProvider...)...)
	mustParse(t, ok)
	// A provider that does not stream has no TTFT.
	bad := editFrom(t, ok, "  - ttft.model{provider=p}", "  - ttft.model{provider=q}")
	checkErrors(t, parseErrors(t, bad), want{"45:25", "thresholds[0]", `provider "q" does not stream`})
}

// mcpDirectBase is a small MCP-direct scenario; thresholds go on line 26.
const mcpDirectBase = `version: 1
name: d
mcp_servers:
  s: {url: mock}
tools:
  - name: get_weather
    inputSchema: {type: object, properties: {location: {type: string}}}
resources:
  - uri: docs://a
    name: a
    mock: {text: hi}
prompts:
  - name: triage
    mock: {text: hi}
mcp_direct:
  mix:
    - {tool: get_weather, arguments: {location: x}}
    - {op: resources/read, uri: "docs://a"}
    - {op: tools/list}
load:
  stages:
    - {rate: 20, duration: 1s}
client:
  timeout: 5s
thresholds:
  - step.mcp{op=resources/read}.p95 < 50ms
`

// TestThresholdScopeMCPDirect: an MCP-direct scenario gates its operations
// with step.mcp, and has no model to gate.
func TestThresholdScopeMCPDirect(t *testing.T) {
	s := mustParse(t, mcpDirectBase+"  - 'attempt.mcp{op=initialize}.p99 < 1s'\n  - step.mcp{uri=docs://a}.max < 1s\n  - step.tool{tool=get_weather}.p(95) < 1s\n")
	if len(s.Thresholds) != 4 {
		t.Fatalf("thresholds = %v", s.Thresholds)
	}
	src := mcpDirectBase +
		"  - step.mcp{op=resource/read}.p95 < 50ms\n" +
		"  - ttft.model.p95 < 1s\n" +
		"  - step.mcp{op=prompts/get}.p95 < 1s\n" +
		"  - step.mcp{op=tools/list,tool=get_weather}.p95 < 1s\n" +
		"  - tokens.prompt < 10\n"
	checkErrors(t, parseErrors(t, src),
		want{"27:17", "thresholds[1]", `unknown operation "resource/read" in this scenario's runs; did you mean "resources/read"?`},
		want{"28:5", "thresholds[2]", "ttft.model is measured on a model's answers, and an mcp_direct scenario has no model"},
		want{"29:17", "thresholds[3]", `unknown operation "prompts/get"`},
		want{"30:33", "thresholds[4]", "a tool filter matches tools/call only, and this one also filters op=tools/list"},
		want{"31:5", "thresholds[5]", "tokens.prompt is measured on a model's answers"},
	)
}

// TestThresholdK6Habits: what k6 users write is either accepted with k6's
// meaning (p(95)) or refused with the mcpload spelling.
func TestThresholdK6Habits(t *testing.T) {
	for expr, stat := range map[string]string{"conversation.p(95) < 200ms": "p95", "step.model{provider=p}.p(99.9) < 1s": "p999", "conversation.p(50) < 1s": "p50"} {
		th, err := ParseThreshold(expr)
		if err != nil || th.Stat != stat {
			t.Errorf("ParseThreshold(%q) = %+v, %v; want stat %s", expr, th, err, stat)
		}
	}
	for expr, msg := range map[string]string{
		"p(95) < 200ms":              "k6's p(...) needs a metric in mcpload: write METRIC.STAT, as in conversation.p95",
		"conversation.p(97) < 1s":    "p(97) is not a percentile mcpload keeps",
		"conversation.avg < 1s":      "write mean, not k6's avg",
		"conversation.p99 =< 2s":     "write <= for at most, not =<",
		"success_rate => 99%":        "write >= for at least, not =>",
		"error_rate < 1":             "error_rate is a percentage: write 1%, or 100% if 1 is a fraction as in k6",
		"error_rate < 0.01":          "write 0.01%, or 1% if 0.01 is a fraction as in k6",
		"error_rate < 0.07":          "write 0.07%, or 7% if 0.07 is a fraction as in k6",
		"error_rate < few":           "expected a percentage such as 99.9%, got \"few\"",
		"success_rate >= 99.9":       "success_rate is a percentage: write the limit with %, such as 99.9%",
		"availability.model >= 0.99": "availability.model is a percentage",
	} {
		_, err := ParseThreshold(expr)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseThreshold(%q) = %v, want %q", expr, err, msg)
		}
	}
	// Placed at the operator, with file:line:column.
	checkErrors(t, parseErrors(t, edit(t, afterBase("thresholds:\n  - conversation.p99 =< 2s\n")...)),
		want{"40:22", "thresholds[0]", "write <= for at most, not =<"})
}

// TestPolicyGates: a policy's thresholds are checked against its own run,
// and expect is pass or fail, fail only with thresholds to fail.
func TestPolicyGates(t *testing.T) {
	src := edit(t, afterBase("policies:\n"+
		"  - name: a\n"+
		"    provider: q\n"+
		"    thresholds: ['step.model{provider=p}.p95 < 1s']\n"+
		"    expect: fial\n"+
		"  - name: b\n"+
		"    client: {timeout: 2s}\n"+
		"    expect: fail\n", secondProvider...)...)
	checkErrors(t, parseErrors(t, src),
		want{"43:39", "policies[0].thresholds[0]", `unknown provider "p" in this scenario's runs; did you mean "q"?`},
		want{"44:13", "policies[0].expect", `unknown expectation "fial"; did you mean "fail"?`},
		want{"47:13", "policies[1].expect", "expect: fail needs thresholds to fail"},
	)
	ok := edit(t, afterBase("thresholds: [success_rate >= 99%]\npolicies:\n"+
		"  - {name: a, provider: q, expect: fail}\n"+
		"  - {name: b, client: {timeout: 2s}, thresholds: ['dropped == 0'], expect: pass}\n", secondProvider...)...)
	s := mustParse(t, ok)
	if got := s.ForPolicy(&s.Policies[0]).Thresholds; len(got) != 1 {
		t.Errorf("policy a's run has thresholds %v, want the scenario's", got)
	}
	if got := s.ForPolicy(&s.Policies[1]).Thresholds; len(got) != 1 || got[0].Expr != "dropped == 0" {
		t.Errorf("policy b's run has thresholds %#v, want its own, in place of the scenario's", got)
	}
}
