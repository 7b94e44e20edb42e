package scenarios

import "testing"

// noMock removes base's provider mock: section (lines 7-8), moving every
// later line up by two.
var noMock = []string{"    mock:\n      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", ""}

func TestUpstreamValidationErrors(t *testing.T) {
	realProvider := append([]string{"base_url: mock", "base_url: http://127.0.0.1:9/v1"}, noMock...)
	realServer := []string{"  s:\n    url: mock", "  s:\n    url: http://127.0.0.1:9/mcp"}
	fault := func(entry string, more ...string) []string {
		return append(afterBase("faults:\n  - "+entry+"\n"), more...)
	}
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"fault on a real provider", fault("{target: provider:p, kind: rate_limit}", realProvider...),
			[]want{{"38:14", "faults[0].target", `provider "p" is at http://127.0.0.1:9/v1, which mcpload neither mocks nor proxies, so the fault would never fire; to rehearse it against that endpoint, set base_url: mock and upstream: http://127.0.0.1:9/v1`}}},
		{"fault on a model of real providers", fault("{target: model:m, kind: hang}", realProvider...),
			[]want{{"38:14", "faults[0].target", `model "m" is asked only of providers that mcpload neither mocks nor proxies (p)`}}},
		{"fault on a tool of a real server", fault("{target: tool:get_weather, kind: tool_error}", realServer...),
			[]want{{"40:14", "faults[0].target", `tool "get_weather" runs on MCP server "s" at http://127.0.0.1:9/mcp, which mcpload neither mocks nor proxies`}}},
		{"mock knobs on a real provider", []string{"base_url: mock", "base_url: http://127.0.0.1:9/v1"},
			[]want{{"8:7", "providers.p.mock", "only applies to base_url: mock; the provider at http://127.0.0.1:9/v1 answers as it answers"}}},
		{"upstream on a real provider", append([]string{"base_url: mock", "base_url: http://127.0.0.1:9/v1\n    upstream: http://127.0.0.1:8/v1"}, noMock...),
			[]want{{"6:15", "providers.p.upstream", "only applies with base_url: mock"}}},
		{"upstream mock", append([]string{"base_url: mock", "base_url: mock\n    upstream: mock"}, noMock...),
			[]want{{"6:15", "providers.p.upstream", `an http(s) URL, not "mock"`}}},
		{"upstream not a URL", append([]string{"base_url: mock", "base_url: mock\n    upstream: ftp://x"}, noMock...),
			[]want{{"6:15", "providers.p.upstream", `expected "mock" or an http(s) URL, got "ftp://x"`}}},
		{"upstream with the mock's latency", []string{"base_url: mock", "base_url: mock\n    upstream: http://127.0.0.1:8/v1"},
			[]want{{"9:16", "providers.p.mock.latency", "does not apply with upstream: the upstream answers"}}},
		{"mcp upstream on a real server", []string{"  s:\n    url: mock", "  s:\n    url: http://127.0.0.1:9/mcp\n    upstream: http://127.0.0.1:8/mcp"},
			[]want{{"12:15", "mcp_servers.s.upstream", "only applies with url: mock"}}},
		{"mcp upstream with mock:", []string{"  s:\n    url: mock", "  s:\n    url: mock\n    upstream: http://127.0.0.1:8/mcp\n    mock: {response: sse}"},
			[]want{{"13:11", "mcp_servers.s.mock", "does not apply with upstream"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

// Through the fault proxy, the same faults validate.
func TestUpstreamProxiedFaultsValidate(t *testing.T) {
	src := edit(t, append(append([]string{
		"base_url: mock", "base_url: mock\n    upstream: http://127.0.0.1:9/v1",
		"  s:\n    url: mock", "  s:\n    url: mock\n    upstream: http://127.0.0.1:9/mcp",
	}, noMock...), afterBase("faults:\n  - {target: provider:p, kind: rate_limit}\n  - {target: tool:get_weather, kind: tool_error}\n  - {target: model:m, kind: stream_cut}\n")...)...)
	s := mustParse(t, src)
	if !s.Providers["p"].IsProxied() || !s.MCPServers["s"].IsProxied() {
		t.Errorf("IsProxied: provider %v, server %v; want both", s.Providers["p"].IsProxied(), s.MCPServers["s"].IsProxied())
	}
}
