package scenarios

import (
	"encoding/json"
	"reflect"
	"testing"
)

// mcpBase is a valid MCP-direct scenario with every op kind. Tests edit it
// and expect errors at exact positions: line numbers are in comments.
const mcpBase = `version: 1
name: t
mcp_servers:
  s:
    url: mock
    mock: {response: sse, extra_tools: 10}
tools:
  - name: search
    inputSchema: {type: object, properties: {q: {type: string}}, required: [q]}
  - name: export
    inputSchema: {type: object}
    mock: {progress: 3, latency: 10ms}
resources:
  - uri: docs://a
    mock: {text: hello}
prompts:
  - name: triage
    arguments:
      - {name: service, required: true}
      - {name: severity}
    mock: {text: "on {{service}}"}
mcp_direct:
  mix:
    - {tool: search, arguments: {q: x}}
    - {tool: export}
    - {op: tools/list}
    - {op: resources/read, uri: "docs://a"}
    - {op: prompts/get, prompt: triage, arguments: {service: api}}
load:
  stages:
    - {rate: 10, duration: 1s}
`

// Line numbers of mcpBase, for the positions below.
const (
	lineMock     = 6  // mcp_servers.s.mock
	lineExport   = 12 // tools[1].mock
	lineResource = 14 // resources[0].uri
	linePrompt   = 17 // prompts[0].name
	lineMix      = 24 // mcp_direct.mix[0]
)

func mcpEdit(t *testing.T, pairs ...string) string {
	t.Helper()
	return editFrom(t, mcpBase, pairs...)
}

func at(line, col int) string { return itoa(line) + ":" + itoa(col) }

func TestMCPDepthDefaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(mcpBase))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Resources[0]
	if r.Server != "s" || r.Name != "docs://a" || r.MIMEType != DefaultResourceMIMEType {
		t.Errorf("resource defaults: %+v", r)
	}
	if s.Prompts[0].Server != "s" {
		t.Errorf("prompt server %q", s.Prompts[0].Server)
	}
	mix := s.MCPDirect.Mix
	// The tool whose mock sends progress asks for it; the others do not.
	if p := mix[1].Progress; p == nil || !*p {
		t.Errorf("export's op progress = %v, want true", p)
	}
	if mix[0].Progress != nil || mix[2].Progress != nil {
		t.Errorf("progress set on ops that did not ask: %v %v", mix[0].Progress, mix[2].Progress)
	}
	wantOps := []string{MCPOpToolsCall, MCPOpToolsCall, MCPOpToolsList, MCPOpResourcesRead, MCPOpPromptsGet}
	for i, op := range mix {
		if op.OpName() != wantOps[i] {
			t.Errorf("mix[%d] op %q, want %q", i, op.OpName(), wantOps[i])
		}
	}
	m := s.MCPServers["s"].Mock
	if m.Response != MCPResponseSSE || m.ExtraTools != 10 || m.Stateless {
		t.Errorf("server mock %+v", m)
	}

	// The resolved scenario round-trips, defaults and all.
	b, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Parse("resolved.yaml", b)
	if err != nil {
		t.Fatalf("resolved scenario does not parse: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(s2.Resources, s.Resources) || !reflect.DeepEqual(s2.Prompts, s.Prompts) || !reflect.DeepEqual(s2.MCPDirect.Mix, s.MCPDirect.Mix) || s2.MCPServers["s"].Mock != m {
		t.Errorf("resolved scenario differs:\n%s", b)
	}
}

func TestMCPDepthValidationErrors(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"unknown op", []string{"{op: tools/list}", "{op: tools/lst}"},
			[]want{{at(lineMix+2, 12), "mcp_direct.mix[2].op", `unknown op "tools/lst"; did you mean "tools/list"?`}}},
		{"uri not served", []string{`uri: "docs://a"}`, `uri: "docs://b"}`},
			[]want{{at(lineMix+3, 33), "mcp_direct.mix[3].uri", `resource "docs://b" is not served by the mock's MCP server "s" (served: docs://a)`}}},
		{"uri missing", []string{`{op: resources/read, uri: "docs://a"}`, `{op: resources/read}`},
			[]want{{at(lineMix+3, 7), "mcp_direct.mix[3].uri", "missing; name the resource to read (served: docs://a)"}}},
		{"uri not a URI", []string{`uri: "docs://a"}`, `uri: "a b"}`},
			[]want{{at(lineMix+3, 33), "mcp_direct.mix[3].uri", "is not an absolute URI"}}},
		{"tool missing", []string{"{tool: search, arguments: {q: x}}", "{arguments: {q: x}}"},
			[]want{{at(lineMix, 7), "mcp_direct.mix[0].tool", "missing; name one of the tools (defined: search, export)"}}},
		{"tool unknown", []string{"{tool: export}", "{tool: exports}"},
			[]want{{at(lineMix+1, 14), "mcp_direct.mix[1].tool", `tool "exports" is not defined in tools`}}},
		{"field of another op", []string{"{op: tools/list}", "{op: tools/list, uri: \"docs://a\", tool: search}"},
			[]want{
				{at(lineMix+2, 29), "mcp_direct.mix[2].uri", "does not apply to op tools/list (it takes none)"},
				{at(lineMix+2, 47), "mcp_direct.mix[2].tool", "does not apply to op tools/list (it takes none)"},
			}},
		{"progress on a read", []string{`{op: resources/read, uri: "docs://a"}`, `{op: resources/read, uri: "docs://a", progress: true}`},
			[]want{{at(lineMix+3, 55), "mcp_direct.mix[3].progress", "does not apply to op resources/read (it takes uri)"}}},
		{"prompt unknown", []string{"prompt: triage,", "prompt: triag,"},
			[]want{{at(lineMix+4, 33), "mcp_direct.mix[4].prompt", `prompt "triag" is not served by the mock's MCP server "s" (served: triage)`}}},
		{"prompt argument missing and unknown", []string{"arguments: {service: api}}", "arguments: {svc: api}}"},
			[]want{
				{at(lineMix+4, 52), "mcp_direct.mix[4].arguments", `missing required argument "service" of prompt "triage"`},
				{at(lineMix+4, 58), "mcp_direct.mix[4].arguments.svc", `prompt "triage" takes no argument "svc" (it takes service, severity)`},
			}},
		{"prompt argument not a string", []string{"arguments: {service: api}}", "arguments: {service: 3}}"},
			[]want{{at(lineMix+4, 62), "mcp_direct.mix[4].arguments.service", "a prompt argument is a string, got int"}}},
		{"progress needs sse", []string{"mock: {response: sse, extra_tools: 10}", "mock: {response: json, extra_tools: 10}"},
			[]want{{at(lineExport, 22), "tools[1].mock.progress", "set mcp_servers.s.mock.response: sse"}}},
		{"progress out of range", []string{"progress: 3,", "progress: 5000,"},
			[]want{{at(lineExport, 22), "tools[1].mock.progress", "must be from 0 to 1000, got 5000"}}},
		{"response unknown", []string{"response: sse,", "response: ssee,"},
			// The mode is reported, and the tool with progress is told
			// that it needs sse.
			[]want{
				{at(lineMock, 22), "mcp_servers.s.mock.response", `unknown response mode "ssee"; did you mean "sse"?`},
				{at(lineExport, 22), "tools[1].mock.progress", "set mcp_servers.s.mock.response: sse"},
			}},
		{"extra_tools out of range", []string{"extra_tools: 10}", "extra_tools: 100000}"},
			[]want{{at(lineMock, 40), "mcp_servers.s.mock.extra_tools", "must be from 0 to 5000, got 100000"}}},
		{"url and command", []string{"    url: mock\n", "    url: mock\n    command: [srv]\n"},
			[]want{{at(lineMock, 14), "mcp_servers.s.command", "set url or command, not both"}}},
		{"command without a program", []string{"    url: mock\n    mock: {response: sse, extra_tools: 10}\n", "    command: [\"\", x]\n    dir: /tmp\n"},
			[]want{{at(lineMock-1, 15), "mcp_servers.s.command[0]", "empty; the first element is the program to run"}}},
		{"env name with =", []string{"    url: mock\n    mock: {response: sse, extra_tools: 10}\n", "    command: [srv]\n    env: {\"A=B\": c}\n"},
			[]want{{at(lineMock, 10), "mcp_servers.s.env", `variable name "A=B": must be non-empty, without '=' or NUL`}}},
		{"env and dir on a url server", []string{"    url: mock\n", "    url: mock\n    env: {A: b}\n    dir: /tmp\n"},
			[]want{
				{at(lineMock, 10), "mcp_servers.s.env", "only applies to a command (stdio) server"},
				{at(lineMock+1, 10), "mcp_servers.s.dir", "only applies to a command (stdio) server"},
			}},
		{"session unknown", []string{"mcp_direct:\n", "mcp_direct:\n  session: sharde\n"},
			[]want{{at(lineMix-1, 12), "mcp_direct.session", `unknown session mode "sharde"; did you mean "shared"?`}}},
		{"protocol unknown", []string{"    url: mock\n", "    url: mock\n    protocol: 2026-07-29\n"},
			[]want{{at(lineMock, 15), "mcp_servers.s.protocol", `unknown protocol "2026-07-29"; did you mean "2026-07-28"?`}}},
		{"discover without the stateless lane", []string{"    url: mock\n", "    url: mock\n    protocol: auto\n    discover: true\n"},
			[]want{{at(lineMock+1, 15), "mcp_servers.s.discover", "only applies to protocol: 2026-07-28 (auto always discovers)"}}},
		{"transport unknown", []string{"    url: mock\n", "    url: http://127.0.0.1:9/sse\n    transport: ssse\n"},
			[]want{
				{at(lineMock, 16), "mcp_servers.s.transport", `unknown transport "ssse"; did you mean "sse"?`},
				{at(lineMock+1, 11), "mcp_servers.s.mock", "only applies to url: mock"},
			}},
		{"sse on the mock", []string{"    url: mock\n", "    url: mock\n    transport: sse\n"},
			[]want{{at(lineMock, 16), "mcp_servers.s.transport", "the mock serves Streamable HTTP only"}}},
		{"mock on a real server", []string{"url: mock", "url: http://127.0.0.1:9/mcp"},
			[]want{{at(lineMock, 11), "mcp_servers.s.mock", "only applies to url: mock"}}},
		{"resource duplicate", []string{"resources:\n", "resources:\n  - uri: docs://a\n"},
			[]want{{at(lineResource+1, 10), "resources[1].uri", `resource "docs://a" is defined twice on server "s" (also resources[0])`}}},
		{"resource without scheme", []string{"  - uri: docs://a\n", "  - uri: a\n"},
			[]want{
				{at(lineResource, 10), "resources[0].uri", `"a" is not an absolute URI`},
				{at(lineMix+3, 33), "mcp_direct.mix[3].uri", `resource "docs://a" is not served by the mock's MCP server "s" (served: a)`},
			}},
		{"resource on an unknown server", []string{"  - uri: docs://a\n", "  - uri: docs://a\n    server: t\n"},
			[]want{
				{at(lineResource+1, 13), "resources[0].server", `MCP server "t" is not defined in mcp_servers (defined: s)`},
				{at(lineMix+4, 33), "mcp_direct.mix[3].uri", `is not served by the mock's MCP server "s" (served: none)`},
			}},
		{"prompt argument twice", []string{"      - {name: severity}\n", "      - {name: service}\n"},
			[]want{{at(linePrompt+3, 16), "prompts[0].arguments[1].name", `argument "service" is listed twice`}}},
		{"reserved JSON-RPC code", []string{"load:\n", "faults:\n  - {target: tool:search, kind: jsonrpc_error, code: -32500}\nload:\n"},
			[]want{{at(lineMix+6, 54), "faults[0].code", "-32500 is reserved by JSON-RPC 2.0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, mcpEdit(t, tc.edits...)), tc.want...)
		})
	}
}

// The standard and seed codes pass; a code outside 32 bits does not.
func TestJSONRPCCodes(t *testing.T) {
	for _, code := range []string{"-32700", "-32600", "-32603", "-32001", "-32004", "-32099", "-32000", "-1", "42", "-40000"} {
		src := mcpEdit(t, "load:\n", "faults:\n  - {target: tool:search, kind: jsonrpc_error, code: "+code+"}\nload:\n")
		if _, err := Parse("t.yaml", []byte(src)); err != nil {
			t.Errorf("code %s: %v", code, err)
		}
	}
	src := mcpEdit(t, "load:\n", "faults:\n  - {target: tool:search, kind: jsonrpc_error, code: 4294967296}\nload:\n")
	checkErrors(t, parseErrors(t, src), want{at(lineMix+6, 54), "faults[0].code", "does not fit a JSON-RPC error code"})
}

func TestToolsBytes(t *testing.T) {
	tools := []*Tool{
		{Name: "a", Description: "tool a", InputSchema: map[string]any{
			"type": "object", "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false,
			"properties": map[string]any{
				"x": map[string]any{"type": []any{"string", "null"}},
				"k": map[string]any{"const": "v"},
			},
		}},
		{Name: "b"}, // no schema: {"type":"object"}, and no Gemini parameters
	}
	got, err := ToolsBytes(tools)
	if err != nil {
		t.Fatal(err)
	}
	schemaA := `{"$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false,"properties":{"k":{"const":"v"},"x":{"type":["string","null"]}},"type":"object"}`
	want := map[string]string{
		APIOpenAI:    `[{"type":"function","function":{"name":"a","description":"tool a","parameters":` + schemaA + `}},{"type":"function","function":{"name":"b","parameters":{"type":"object"}}}]`,
		APIAnthropic: `[{"name":"a","description":"tool a","input_schema":` + schemaA + `},{"name":"b","input_schema":{"type":"object"}}]`,
		// Gemini's Schema: no $schema or additionalProperties, nullable, const as enum.
		APIGemini: `[{"functionDeclarations":[{"name":"a","description":"tool a","parameters":{"properties":{"k":{"enum":["v"]},"x":{"nullable":true,"type":"string"}},"type":"object"}},{"name":"b"}]}]`,
	}
	for api, w := range want {
		if !json.Valid([]byte(w)) {
			t.Fatalf("%s: bad want", api)
		}
		if got[api] != len(w) {
			t.Errorf("%s: %d bytes, want %d (%s)", api, got[api], len(w), w)
		}
	}
	n, err := MCPToolsBytes(tools)
	if err != nil {
		t.Fatal(err)
	}
	if w := `[{"name":"a","description":"tool a","inputSchema":` + schemaA + `},{"name":"b","inputSchema":{"type":"object"}}]`; n != len(w) {
		t.Errorf("MCP bytes %d, want %d", n, len(w))
	}
	if empty, _ := ToolsBytes(nil); empty[APIOpenAI] != 0 || len(empty) != 3 {
		t.Errorf("no tools: %v", empty)
	}
}

// TestMCPStdioServerParses: a command server with env and dir, loaded
// with mcp_direct.session: shared, validates and keeps its fields.
func TestMCPStdioServerParses(t *testing.T) {
	src := mcpEdit(t, "    url: mock\n    mock: {response: sse, extra_tools: 10}\n",
		"    command: [go-mcp-server, --stdio]\n    env: {LOG_LEVEL: debug}\n    dir: /tmp\n",
		"mcp_direct:\n", "mcp_direct:\n  session: shared\n")
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := s.MCPServers["s"]
	if !m.IsStdio() || m.IsMock() || m.Command[1] != "--stdio" || m.Env["LOG_LEVEL"] != "debug" || m.Dir != "/tmp" || s.MCPDirect.Session != SessionShared {
		t.Fatalf("server %+v, session %q", m, s.MCPDirect.Session)
	}
}

// TestMCPProtocolParses: each lane parses and keeps its fields.
func TestMCPProtocolParses(t *testing.T) {
	for _, p := range MCPClientProtocols() {
		extra := ""
		if p == MCPProtocolStateless {
			extra = "    discover: true\n"
		}
		s, err := Parse("t.yaml", []byte(mcpEdit(t, "    url: mock\n", "    url: mock\n    protocol: \""+p+"\"\n"+extra)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if m := s.MCPServers["s"]; m.Protocol != p || m.Discover != (extra != "") {
			t.Fatalf("%s: %+v", p, m)
		}
	}
}
