package scenarios

import (
	"strings"
	"testing"
	"time"
)

// conversationBlock is base's conversation section, lines 23-32.
const conversationBlock = `conversation:
  provider: p
  turns:
    - user: hi
      model:
        - tool_calls:
            - name: get_weather
              arguments: {location: Hanoi}
            - name: search_docs
        - content: done
`

func TestValidationErrors(t *testing.T) {
	mcpDirect := func(body string) []string {
		return []string{conversationBlock, "mcp_direct:\n" + body}
	}
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"version", []string{"version: 1", "version: 2"},
			[]want{{"1:10", "version", "unsupported schema version 2"}}},
		{"name missing", []string{"name: t\n", ""},
			[]want{{"1:1", "name", "missing"}}},
		{"name unsafe", []string{"name: t", "name: a/b"},
			[]want{{"2:7", "name", `"a/b" cannot name a results folder`}}},
		{"both kinds", []string{"timeout: 5s\n", "timeout: 5s\nmcp_direct: {server: s, mix: [{tool: search_docs}]}\n"},
			[]want{{"39:13", "mcp_direct", "either conversation or mcp_direct, not both"}}},
		{"neither kind", []string{conversationBlock, ""},
			[]want{{"1:1", "", "missing conversation or mcp_direct"}}},
		{"provider null", []string{"mcp_servers:", "  q: ~\nmcp_servers:"},
			[]want{{"9:6", "providers.q", "got null"}}},
		{"provider name", []string{"  p:\n", "  p:\n    base_url: mock\n    model: m\n  a b:\n"},
			[]want{{"7:3", `providers["a b"]`, `provider name "a b"`}}},
		{"api", []string{"    model: m\n", "    model: m\n    api: cohere\n"},
			[]want{{"7:10", "providers.p.api", `unsupported api "cohere"; expected one of openai, anthropic, gemini`}}},
		{"tool_choice", []string{"    model: m\n", "    model: m\n    tool_choice: get_wether\n"},
			[]want{{"7:18", "providers.p.tool_choice", `"get_wether" is neither auto, none, required nor a tool of the scenario (tools: get_weather, search_docs)`}}},
		{"base_url scheme", []string{"base_url: mock", "base_url: ftp://x"},
			[]want{{"5:15", "providers.p.base_url", `expected "mock" or an http(s) URL, got "ftp://x"`}}},
		{"base_url host", []string{"base_url: mock", "base_url: http://"},
			[]want{{"5:15", "providers.p.base_url", "has no host"}}},
		{"base_url credentials", []string{"base_url: mock", "base_url: https://u:hunter2@h/v1"},
			[]want{{"5:15", "providers.p.base_url", "must not hold credentials"}}},
		{"model missing", []string{"    model: m\n", ""},
			[]want{{"5:5", "providers.p.model", "missing"}}},
		{"api_key_env", []string{"    model: m\n", "    model: m\n    api_key_env: sk-live-abc123\n"},
			[]want{{"7:18", "providers.p.api_key_env", "must be the name of an environment variable"}}},
		{"mcp url", []string{"\n    url: mock", "\n    url: localhost:8080"},
			[]want{{"11:10", "mcp_servers.s.url", `expected "mock" or an http(s) URL`}}},
		{"tool name missing", []string{"\n  - name: search_docs\n", "\n  - description: d\n"},
			[]want{
				{"21:5", "tools[1].name", "missing"},
				{"31:21", "conversation.turns[0].model[0].tool_calls[1].name", `tool "search_docs" is not defined in tools (defined: get_weather)`},
			}},
		{"tool name invalid", []string{"\n  - name: search_docs", "\n  - name: search.docs"},
			[]want{
				{"21:11", "tools[1].name", `"search.docs" is not a valid tool name`},
				{"31:21", "conversation.turns[0].model[0].tool_calls[1].name", `tool "search_docs" is not defined`},
			}},
		{"tool name reserved", []string{"\n  - name: search_docs", "\n  - name: _undeclared"},
			[]want{
				{"21:11", "tools[1].name", `"_undeclared" is reserved: it keys the calls to tools the scenario does not declare`},
				{"31:21", "conversation.turns[0].model[0].tool_calls[1].name", `tool "search_docs" is not defined`},
			}},
		{"tool name duplicate", []string{"\n  - name: search_docs\n", "\n  - name: get_weather\n", "- name: search_docs\n        -", "- name: get_weather\n        -"},
			[]want{
				{"21:11", "tools[1].name", `tool "get_weather" is defined twice (also tools[0])`},
				// The call has no arguments, and get_weather needs a location.
				{"31:15", "conversation.turns[0].model[0].tool_calls[1].arguments", `missing properties: ["location"]`},
			}},
		{"inputSchema missing", []string{"    inputSchema: {type: object, properties: {query: {type: string}}}\n", "    description: d\n"},
			[]want{{"21:5", "tools[1].inputSchema", "missing"}}},
		{"inputSchema not object", []string{"{type: object, properties: {query", "{type: string, properties: {query"},
			[]want{{"22:25", "tools[1].inputSchema.type", `must be "object"`}}},
		{"inputSchema without type", []string{"{type: object, properties: {query", "{properties: {query"},
			[]want{{"22:18", "tools[1].inputSchema.type", `must be "object"`}}},
		{"inputSchema invalid", []string{"{query: {type: string}}", "{query: {type: 5}}"},
			[]want{{"22:18", "tools[1].inputSchema", "not a valid JSON Schema"}}},
		{"tool server undefined", []string{"properties: {query: {type: string}}}\n", "properties: {query: {type: string}}}\n    server: nope\n"},
			[]want{{"23:13", "tools[1].server", `MCP server "nope" is not defined in mcp_servers (defined: s)`}}},
		{"tool server ambiguous", []string{"\n    url: mock\n", "\n    url: mock\n  s2: {url: mock}\n", "- name: search_docs\n    inputSchema:", "- name: search_docs\n    server: s\n    inputSchema:"},
			[]want{{"14:5", "tools[0].server", "missing; name the mcp_servers entry that runs the tool (defined: s, s2)"}}},
		{"latency dist unknown", []string{"{dist: uniform", "{dist: gamma"},
			[]want{{"20:23", "tools[0].mock.latency.dist", `unknown distribution "gamma"`}}},
		{"latency dist missing", []string{"{dist: uniform, min: 5ms", "{min: 5ms"},
			[]want{{"20:16", "tools[0].mock.latency.dist", "missing"}}},
		{"uniform min > max", []string{"min: 5ms", "min: 50ms"},
			[]want{{"20:48", "tools[0].mock.latency.max", "max 30ms is less than min 50ms"}}},
		{"latency param not taken", []string{"max: 30ms}", "max: 30ms, p99: 1s}"},
			[]want{{"20:58", "tools[0].mock.latency.p99", "dist uniform does not take p99 (it takes min, max)"}}},
		{"normal stddev", []string{"{dist: lognormal, p50: 60ms, p99: 250ms}", "{dist: normal, mean: 60ms}"},
			[]want{{"8:16", "providers.p.mock.latency.stddev", "must be greater than 0"}}},
		{"lognormal p50", []string{"p50: 60ms", "p50: 0s"},
			[]want{{"8:39", "providers.p.mock.latency.p50", "must be greater than 0"}}},
		{"lognormal p99", []string{"p99: 250ms", "p99: 50ms"},
			[]want{{"8:50", "providers.p.mock.latency.p99", "p99 50ms must be greater than p50 60ms"}}},
		{"conversation provider undefined", []string{"  provider: p", "  provider: q"},
			[]want{{"24:13", "conversation.provider", `provider "q" is not defined in providers (defined: p)`}}},
		{"conversation provider missing", []string{"  provider: p\n", ""},
			[]want{{"24:3", "conversation.provider", "missing"}}},
		{"no turns", []string{conversationBlock, "conversation:\n  provider: p\n  turns: []\n"},
			[]want{{"25:10", "conversation.turns", "at least one turn"}}},
		{"empty user", []string{"- user: hi", `- user: " "`},
			[]want{{"26:13", "conversation.turns[0].user", "missing"}}},
		{"no model replies", []string{conversationBlock, "conversation:\n  provider: p\n  turns:\n    - user: hi\n"},
			[]want{{"26:7", "conversation.turns[0].model", "missing"}}},
		{"last reply calls tools", []string{"        - content: done\n", ""},
			[]want{{"29:13", "conversation.turns[0].model[0].tool_calls", "the last reply of a turn is the final answer"}}},
		{"last reply without content", []string{"- content: done", "- usage: {prompt_tokens: 5}"},
			[]want{{"32:11", "conversation.turns[0].model[1].content", "needs content"}}},
		{"earlier reply without tool calls", []string{"        - tool_calls:\n", "        - content: thinking\n        - tool_calls:\n"},
			[]want{{"28:11", "conversation.turns[0].model[0].tool_calls", "every reply before the last must call tools"}}},
		{"tool call undefined", []string{"- name: search_docs\n        - content", "- name: get_wether\n        - content"},
			[]want{{"31:21", "conversation.turns[0].model[0].tool_calls[1].name", `tool "get_wether" is not defined in tools (defined: get_weather, search_docs)`}}},
		{"tool call name missing", []string{"            - name: search_docs\n", "            - arguments: {}\n"},
			[]want{{"31:15", "conversation.turns[0].model[0].tool_calls[1].name", "missing; name one of the tools"}}},
		{"tool call arguments", []string{"{location: Hanoi}", "{location: 5}"},
			[]want{{"30:26", "conversation.turns[0].model[0].tool_calls[0].arguments", `arguments do not match tool "get_weather"'s inputSchema`}}},
		{"tool call arguments missing", []string{"              arguments: {location: Hanoi}\n", ""},
			[]want{{"29:15", "conversation.turns[0].model[0].tool_calls[0].arguments", "location"}}},
		{"more replies than max_steps", []string{"  provider: p\n", "  provider: p\n  max_steps: 1\n"},
			[]want{{"29:9", "conversation.turns[0].model", "2 replies, more than max_steps (1)"}}},
		{"max_steps negative", []string{"  provider: p\n", "  provider: p\n  max_steps: -1\n"},
			[]want{{"25:14", "conversation.max_steps", "must be from 1 to 1000, got -1"}}},
		{"usage negative", []string{"- content: done", "- content: done\n          usage: {prompt_tokens: 10, completion_tokens: -1, cached_tokens: 11}"},
			[]want{
				{"33:57", "conversation.turns[0].model[1].usage.completion_tokens", "must not be negative"},
				{"33:76", "conversation.turns[0].model[1].usage.cached_tokens", "more than the 10 prompt tokens"},
			}},
		{"mcp_direct server undefined", mcpDirect("  server: nope\n  mix: [{tool: search_docs}]\n"),
			[]want{{"24:11", "mcp_direct.server", `MCP server "nope" is not defined in mcp_servers (defined: s)`}}},
		{"mcp_direct session", mcpDirect("  session: sometimes\n  mix: [{tool: search_docs}]\n"),
			[]want{{"24:12", "mcp_direct.session", `unknown session mode "sometimes"; expected one of: per_vu, shared, per_call`}}},
		{"mcp_direct mix empty", mcpDirect("  session: per_call\n"),
			[]want{{"24:3", "mcp_direct.mix", "at least one tool"}}},
		{"mcp_direct mix", mcpDirect("  mix:\n    - {tool: nope}\n    - {tool: search_docs, weight: -1}\n    - {tool: get_weather, arguments: {location: [x]}}\n"),
			[]want{
				{"25:14", "mcp_direct.mix[0].tool", `tool "nope" is not defined in tools (defined: get_weather, search_docs)`},
				{"26:35", "mcp_direct.mix[1].weight", "must be greater than 0, got -1"},
				{"27:38", "mcp_direct.mix[2].arguments", `arguments do not match tool "get_weather"'s inputSchema`},
			}},
		{"mcp_direct mix session", mcpDirect("  mix: [{tool: search_docs, session: churn}]\n"),
			[]want{{"24:38", "mcp_direct.mix[0].session", `unknown session mode "churn"; expected one of: per_vu, shared, per_call`}}},
		{"arrival", []string{"load:\n", "load:\n  arrival: burst\n"},
			[]want{{"34:12", "load.arrival", `expected "constant" or "poisson", got "burst"`}}},
		{"on_cap", []string{"load:\n", "load:\n  on_cap: shed\n"},
			[]want{{"34:11", "load.on_cap", `expected "queue" or "drop", got "shed"`}}},
		{"max_in_flight", []string{"load:\n", "load:\n  max_in_flight: -3\n"},
			[]want{{"34:18", "load.max_in_flight", "must be from 1 to 1000000"}}},
		{"max_in_flight huge", []string{"load:\n", "load:\n  max_in_flight: 1000000000000\n"},
			[]want{{"34:18", "load.max_in_flight", "must be from 1 to 1000000"}}},
		{"no stages", []string{"    - {rate: 20, duration: 1s}\n    - {rate: 50/1s, duration: 2s, ramp: 1s}\n", "    []\n"},
			[]want{{"35:5", "load.stages", "at least one stage"}}},
		{"stages missing", []string{"  stages:\n    - {rate: 20, duration: 1s}\n    - {rate: 50/1s, duration: 2s, ramp: 1s}\n", "  arrival: constant\n"},
			[]want{{"34:3", "load.stages", "at least one stage"}}},
		{"stage duration 0", []string{"duration: 1s}", "duration: 0s}"},
			[]want{{"35:28", "load.stages[0].duration", "must be greater than 0"}}},
		{"stage duration missing", []string{"{rate: 20, duration: 1s}", "{rate: 20}"},
			[]want{{"35:7", "load.stages[0].duration", "must be greater than 0"}}},
		{"ramp longer than duration", []string{"ramp: 1s}", "ramp: 3s}"},
			[]want{{"36:41", "load.stages[1].ramp", "ramp 3s is longer than the stage's duration 2s"}}},
		{"rate too high", []string{"rate: 20,", "rate: 2000000,"},
			[]want{{"35:14", "load.stages[0].rate", "more than the 1000000"}}},
		{"rate 0 with poisson", []string{"load:\n", "load:\n  arrival: poisson\n", "rate: 20,", "rate: 0,"},
			[]want{
				{"36:14", "load.stages[0].rate", "needs arrival: constant"},
				{"37:41", "load.stages[1].ramp", "cannot ramp from stage 0's rate of 0"},
			}},
		{"rate 0 with ramp", []string{"{rate: 50/1s, duration: 2s, ramp: 1s}", "{rate: 0, duration: 2s, ramp: 1s}"},
			[]want{{"36:37", "load.stages[1].ramp", "cannot ramp to a rate of 0"}}},
		{"ramp from rate 0", []string{"rate: 20,", "rate: 0,"},
			[]want{{"36:41", "load.stages[1].ramp", "cannot ramp from stage 0's rate of 0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

// Secrets must not reach error messages, which end up in CI logs.
func TestValidationErrorsHideSecrets(t *testing.T) {
	for _, src := range []string{
		edit(t, "base_url: mock", "base_url: https://u:hunter2@h/v1"),
		edit(t, "base_url: mock", "base_url: ftp://u:hunter2@h/v1"),
		edit(t, "    model: m\n", "    model: m\n    api_key_env: hunter2-sk\n"),
	} {
		if err := parseErrors(t, src); strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

// Validate on a Scenario built in Go checks what YAML cannot express
// (the defaults fill those in), and names fields without positions.
func TestValidateInGo(t *testing.T) {
	s := mustParse(t, base)
	s.Client.Timeout = 0
	s.Load.MaxInFlight = 0
	s.Load.Stages[0].Rate = 0
	s.Load.Stages[1].Ramp = Duration(-time.Second)
	s.Load.Stages[1].Rate = -1
	err := s.Validate()
	es, ok := err.(Errors)
	if !ok {
		t.Fatalf("Validate() = %v (%T), want Errors", err, err)
	}
	got := es.Error()
	for _, w := range []string{
		"t.yaml: load.stages[0].rate: a rate of 0 (as fast as max_in_flight allows) needs max_in_flight > 0",
		"t.yaml: load.stages[1].rate: must be a number from 0 to 1000000 per second, got -1",
		"t.yaml: load.stages[1].ramp: must not be negative",
		"t.yaml: client.timeout: must be greater than 0",
	} {
		if !strings.Contains(got, w+"\n") && !strings.HasSuffix(got, w) {
			t.Errorf("Validate() errors:\n%s\nwant a line %q", got, w)
		}
	}
	if len(es) != 4 {
		t.Errorf("Validate() gave %d errors, want 4:\n%s", len(es), got)
	}

	// A valid scenario stays valid, and Validate is repeatable.
	if err := mustParse(t, base).Validate(); err != nil {
		t.Errorf("Validate() on a parsed scenario = %v", err)
	}
}

// TestProviderDialects accepts every api, and tool_choice and
// parallel_tool_calls on each.
func TestProviderDialects(t *testing.T) {
	for _, api := range APIs() {
		for _, choice := range []string{"auto", "none", "required", "search_docs"} {
			src := edit(t, "    model: m\n", "    model: m\n    api: "+api+"\n    tool_choice: "+choice+"\n    parallel_tool_calls: false\n")
			s := mustParse(t, src)
			p := s.Providers["p"]
			if p.API != api || p.ToolChoice != choice || p.ParallelToolCalls == nil || *p.ParallelToolCalls {
				t.Errorf("api %s tool_choice %s: parsed %+v", api, choice, p)
			}
		}
	}
}
