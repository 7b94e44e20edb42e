package scenarios

import "testing"

// capsBase declares every client capability on an MCP server; line
// numbers are in comments.
const capsBase = `version: 1
name: t
providers:
  p: {base_url: mock, model: gpt-4.1-mini}
mcp_servers:
  s:
    url: mock
    client:
      roots: [{uri: "file:///work/repo", name: repo}]
      sampling: {text: hello, stop_reason: endTurn}
      elicitation: {action: accept, content: {name: Ada, age: 36, tags: [a, b]}}
tools:
  - name: search
    inputSchema: {type: object}
mcp_direct:
  mix:
    - {tool: search}
load:
  stages:
    - {rate: 10, duration: 1s}
`

func TestMCPClientCapsParse(t *testing.T) {
	s := mustParse(t, capsBase)
	c := s.MCPServers["s"].Client
	if c == nil || len(c.Roots) != 1 || c.Roots[0].URI != "file:///work/repo" || c.Sampling.Text != "hello" || c.Elicitation.Content["name"] != "Ada" {
		t.Fatalf("client: %+v", c)
	}
	// Sampling by a provider.
	s = mustParse(t, editFrom(t, capsBase, "sampling: {text: hello, stop_reason: endTurn}", "sampling: {provider: p}"))
	if s.MCPServers["s"].Client.Sampling.Provider != "p" {
		t.Fatalf("sampling: %+v", s.MCPServers["s"].Client.Sampling)
	}
}

func TestMCPClientCapsErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []string
		want  []want
	}{
		{"root not a file URI", []string{`uri: "file:///work/repo"`, `uri: "https://x.test/repo"`},
			[]want{{"9:21", "mcp_servers.s.client.roots[0].uri", "file://"}}},
		{"root without uri", []string{`{uri: "file:///work/repo", name: repo}`, `{name: repo}`},
			[]want{{"9:15", "mcp_servers.s.client.roots[0]", "uri missing"}}},
		{"stop reason", []string{"stop_reason: endTurn", "stop_reason: endturn"},
			[]want{{"10:44", "mcp_servers.s.client.sampling.stop_reason", `did you mean "endTurn"`}}},
		{"unknown provider", []string{"sampling: {text: hello, stop_reason: endTurn}", "sampling: {provider: q}"},
			[]want{{"10:28", "mcp_servers.s.client.sampling.provider", `"q" is not in providers`}}},
		{"provider and script", []string{"sampling: {text: hello, stop_reason: endTurn}", "sampling: {provider: p, text: hi}"},
			[]want{{"10:28", "mcp_servers.s.client.sampling.provider", "drop text"}}},
		{"action", []string{"action: accept", "action: acept"},
			[]want{{"11:29", "mcp_servers.s.client.elicitation.action", `did you mean "accept"`}}},
		{"content on decline", []string{"action: accept", "action: decline"},
			[]want{{"11:47", "mcp_servers.s.client.elicitation.content", "only an accept"}}},
		{"content value", []string{"tags: [a, b]", "tags: {x: 1}"},
			[]want{{"11:73", "mcp_servers.s.client.elicitation.content.tags", "string, number, boolean or list of strings"}}},
		{"unknown field", []string{"sampling: {text: hello,", "sampling: {txt: hello,"},
			[]want{{"10:18", "mcp_servers.s.client.sampling.txt", "unknown field"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, editFrom(t, capsBase, tc.pairs...)), tc.want...)
		})
	}
}
