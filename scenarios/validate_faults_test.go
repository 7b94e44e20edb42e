package scenarios

import (
	"strings"
	"testing"
)

func TestFaultValidationErrors(t *testing.T) {
	// fault puts one fault on line 40; base's schedule is 3s long.
	fault := func(entry string) []string { return afterBase("faults:\n  - " + entry + "\n") }
	limits := func(l string) []string {
		return []string{"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n      limits: " + l + "\n"}
	}
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"target missing", fault("{kind: hang}"),
			[]want{{"40:5", "faults[0].target", "missing; name what the fault hits: provider:NAME, model:MODEL or tool:NAME"}}},
		{"target syntax", fault("{target: primary, kind: hang}"),
			[]want{{"40:14", "faults[0].target", `expected provider:NAME, model:MODEL or tool:NAME, got "primary"`}}},
		{"target without name", fault("{target: 'provider:', kind: hang}"),
			[]want{{"40:14", "faults[0].target", `expected provider:NAME, model:MODEL or tool:NAME, got "provider:"`}}},
		{"target provider undefined", fault("{target: provider:nope, kind: hang}"),
			[]want{{"40:14", "faults[0].target", `provider "nope" is not defined in providers (defined: p)`}}},
		{"target model undefined", fault("{target: model:gpt, kind: hang}"),
			[]want{{"40:14", "faults[0].target", `no provider asks for model "gpt" (models: m)`}}},
		{"target tool undefined", fault("{target: tool:nope, kind: hang}"),
			[]want{{"40:14", "faults[0].target", `tool "nope" is not defined in tools (defined: get_weather, search_docs)`}}},
		{"kind missing", fault("{target: provider:p}"),
			[]want{{"40:5", "faults[0].kind", "missing; one of latency, hang, http_error, rate_limit, overloaded, reset, slow_headers, stream_stall, stream_cut, malformed, tool_error, jsonrpc_error"}}},
		{"kind unknown", fault("{target: provider:p, kind: rate_limited}"),
			[]want{{"40:32", "faults[0].kind", `unknown fault kind "rate_limited"; did you mean "rate_limit"?`}}},
		{"kind unknown, no guess", fault("{target: provider:p, kind: brownout}"),
			[]want{{"40:32", "faults[0].kind", `unknown fault kind "brownout"; expected one of: latency, hang,`}}},
		{"overloaded on a tool", fault("{target: tool:search_docs, kind: overloaded}"),
			[]want{{"40:38", "faults[0].kind", "kind overloaded does not apply to an MCP tool (tool: target); it takes latency, hang, http_error, rate_limit, reset, slow_headers, malformed, tool_error, jsonrpc_error"}}},
		{"stream_cut on a tool", fault("{target: tool:search_docs, kind: stream_cut}"),
			[]want{{"40:38", "faults[0].kind", "kind stream_cut does not apply to an MCP tool"}}},
		{"tool_error on a provider", fault("{target: provider:p, kind: tool_error}"),
			[]want{{"40:32", "faults[0].kind", "kind tool_error does not apply to a model endpoint (provider: or model: target); it takes latency, hang, http_error, rate_limit, overloaded, reset, slow_headers, stream_stall, stream_cut, malformed"}}},
		{"jsonrpc_error on a model", fault("{target: model:m, kind: jsonrpc_error}"),
			[]want{{"40:29", "faults[0].kind", "kind jsonrpc_error does not apply to a model endpoint"}}},
		{"latency missing", fault("{target: provider:p, kind: latency}"),
			[]want{{"40:5", "faults[0].latency", "missing; latency needs a latency, such as 45s"}}},
		{"slow_headers latency missing", fault("{target: tool:get_weather, kind: slow_headers}"),
			[]want{{"40:5", "faults[0].latency", "missing; slow_headers needs a latency"}}},
		{"latency model invalid", fault("{target: provider:p, kind: slow_headers, latency: {dist: gamma}}"),
			[]want{{"40:62", "faults[0].latency.dist", `unknown distribution "gamma"`}}},
		{"latency on hang", fault("{target: provider:p, kind: hang, latency: 1s}"),
			[]want{{"40:47", "faults[0].latency", "only applies to latency, slow_headers and stream_stall faults, not hang"}}},
		{"status missing", fault("{target: provider:p, kind: http_error}"),
			[]want{{"40:5", "faults[0].status", "missing; http_error needs status 500, 502 or 503"}}},
		{"status 504", fault("{target: provider:p, kind: http_error, status: 504}"),
			[]want{{"40:52", "faults[0].status", "expected 500, 502 or 503, got 504 (for 429 use kind rate_limit, for 529 kind overloaded)"}}},
		{"status on rate_limit", fault("{target: provider:p, kind: rate_limit, status: 429}"),
			[]want{{"40:52", "faults[0].status", "only applies to http_error faults, not rate_limit"}}},
		{"retry_after on a 500", fault("{target: provider:p, kind: http_error, status: 500, retry_after: 1s}"),
			[]want{{"40:70", "faults[0].retry_after", "only applies to rate_limit, overloaded and http_error status 503 faults"}}},
		{"retry_after on reset", fault("{target: provider:p, kind: reset, retry_after: 1s}"),
			[]want{{"40:52", "faults[0].retry_after", "only applies to rate_limit, overloaded and http_error status 503 faults"}}},
		{"after_chunks on latency", fault("{target: provider:p, kind: latency, latency: 1s, after_chunks: 2}"),
			[]want{{"40:68", "faults[0].after_chunks", "only applies to stream_stall and stream_cut faults, not latency"}}},
		{"after_chunks negative", fault("{target: provider:p, kind: stream_cut, after_chunks: -1}"),
			[]want{{"40:58", "faults[0].after_chunks", "must not be negative, got -1"}}},
		{"code on tool_error", fault("{target: tool:search_docs, kind: tool_error, code: 1}"),
			[]want{{"40:56", "faults[0].code", "only applies to jsonrpc_error faults, not tool_error"}}},
		{"message on hang", fault("{target: provider:p, kind: hang, message: x}"),
			[]want{{"40:47", "faults[0].message", "only applies to jsonrpc_error and tool_error faults, not hang"}}},
		{"probability above 1", fault("{target: provider:p, kind: hang, probability: 1.5}"),
			[]want{{"40:51", "faults[0].probability", "must be from 0 to 1 (the share of requests hit), got 1.5"}}},
		{"probability negative", fault("{target: provider:p, kind: hang, probability: -0.1}"),
			[]want{{"40:51", "faults[0].probability", "got -0.1"}}},
		{"window after the schedule", fault("{target: provider:p, kind: hang, from: 3s}"),
			[]want{{"40:44", "faults[0].from", "the window opens at 3s, when the run's schedule (3s, the sum of load.stages) is over; the fault would never fire"}}},
		{"several faults, several errors", afterBase("faults:\n  - {target: provider:p, kind: hang, from: 2s, for: 1h}\n  - target: tool:get_weather\n    kind: tool_eror\n"),
			[]want{{"42:11", "faults[1].kind", `did you mean "tool_error"?`}}},
		{"limits empty", limits("{}"),
			[]want{{"9:15", "providers.p.mock.limits", "set rpm (requests per minute), tpm (tokens per minute) or both to a limit above 0"}}},
		{"limits negative", limits("{rpm: -1, tpm: 0}"),
			[]want{
				{"9:15", "providers.p.mock.limits", "set rpm (requests per minute), tpm (tokens per minute) or both"},
				{"9:21", "providers.p.mock.limits.rpm", "must not be negative, got -1"},
			}},
		{"limits tpm negative", limits("{rpm: 60, tpm: -5}"),
			[]want{{"9:30", "providers.p.mock.limits.tpm", "must not be negative, got -5"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

// Every kind is accepted on the targets the table allows, with the fields
// it takes, in a scenario that validates.
func TestFaultKindsAccepted(t *testing.T) {
	entries := []string{
		"{target: provider:p, kind: latency, latency: {dist: uniform, min: 1s, max: 2s}}",
		"{target: model:m, kind: hang}",
		"{target: provider:p, kind: http_error, status: 503, retry_after: 2s}",
		"{target: provider:p, kind: http_error, status: 502}",
		"{target: provider:p, kind: rate_limit, retry_after: 0s}",
		"{target: provider:p, kind: overloaded, retry_after: 1s}",
		"{target: provider:p, kind: reset, probability: 0.5}",
		"{target: provider:p, kind: slow_headers, latency: 5s}",
		"{target: provider:p, kind: stream_stall}",
		"{target: provider:p, kind: stream_stall, latency: 10s, after_chunks: 3}",
		"{target: provider:p, kind: stream_cut, after_chunks: 2}",
		"{target: provider:p, kind: malformed, from: 1s, for: 1s}",
		"{target: tool:get_weather, kind: latency, latency: 1s}",
		"{target: tool:get_weather, kind: hang}",
		"{target: tool:get_weather, kind: http_error, status: 500}",
		"{target: tool:get_weather, kind: rate_limit}",
		"{target: tool:get_weather, kind: reset}",
		"{target: tool:get_weather, kind: slow_headers, latency: 1s}",
		"{target: tool:get_weather, kind: malformed}",
		"{target: tool:get_weather, kind: tool_error, message: no such city}",
		"{target: tool:search_docs, kind: jsonrpc_error, code: -32000, message: busy}",
	}
	body := "faults:\n"
	for _, e := range entries {
		body += "  - " + e + "\n"
	}
	s := mustParse(t, edit(t, afterBase(body)...))
	if len(s.Faults) != len(entries) {
		t.Fatalf("%d faults, want %d", len(s.Faults), len(entries))
	}
	seen := map[string]bool{}
	for _, f := range s.Faults {
		seen[f.Kind] = true
	}
	for _, k := range FaultKinds() {
		if !seen[k] {
			t.Errorf("kind %s is not covered", k)
		}
	}
}

func TestLimitsQuantum(t *testing.T) {
	for _, tc := range []struct {
		limits, want string
	}{
		{"{rpm: 1200, quantum: 2m}", "providers.p.mock.limits.quantum: must be at most 1m"},
		{"{rpm: 30, quantum: 1s}", "providers.p.mock.limits.quantum: rpm 30 over a quantum of 1s admits less than one request"},
	} {
		src := edit(t, "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n      limits: "+tc.limits+"\n")
		_, err := Parse("t.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("limits %s: error %v, want %q", tc.limits, err, tc.want)
		}
	}
	src := edit(t, "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n      limits: {rpm: 1200, quantum: 1s}\n")
	if _, err := Parse("t.yaml", []byte(src)); err != nil {
		t.Errorf("rpm 1200 per 1s quantum: %v", err)
	}
}
