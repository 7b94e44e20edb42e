package scenarios

import (
	"testing"
	"time"
)

// TestMCPFixtureFields checks that the fixture fields decode, with their
// defaults, and that a scenario using all of them is valid.
func TestMCPFixtureFields(t *testing.T) {
	s := mustParse(t, mcpEdit(t,
		"mock: {response: sse, extra_tools: 10}", "mock: {response: sse, extra_tools: 10, protocol: 2025-11-25, sse_retry: 1500ms}",
		"    mock: {progress: 3, latency: 10ms}\n", `    mock:
      progress: 3
      latency: 10ms
      content:
        - {type: text, text: "done {{sampling}}"}
        - {type: image, data: aGk=, mimeType: image/png}
        - {type: audio, data: aGk=, mimeType: audio/wav}
        - {type: resource, uri: "docs://x", mimeType: text/plain, blob: aGk=}
        - {type: resource_link, uri: "docs://x", name: x}
      log: [{data: started}, {level: debug, data: detail}]
      sampling: {prompt: "say {{q}}"}
      elicitation: {message: who, requestedSchema: {type: object, properties: {name: {type: string}}}}
`,
		"    mock: {text: hello}\n", "    mock: {blob: aGk=, update_every: 2s}\n  - {uriTemplate: \"docs://items/{id}\", mock: {text: \"item {{id}}\"}}\n",
		"      - {name: service, required: true}", "      - {name: service, required: true, completions: [api, web]}",
	))
	m := s.MCPServers["s"].Mock
	if m.Protocol != MCPProtocolInitialize || m.SSERetry.D() != 1500*time.Millisecond {
		t.Errorf("mock = %+v", m)
	}
	tm := s.Tools[1].Mock
	if len(tm.Content) != 5 || tm.Content[3].Blob != "aGk=" || len(tm.Log) != 2 || tm.Log[1].Level != "debug" || tm.Sampling.Prompt != "say {{q}}" || tm.Elicitation.Message != "who" {
		t.Errorf("tool mock = %+v", tm)
	}
	if r := s.Resources[1]; r.URITemplate != "docs://items/{id}" || r.Name != "docs://items/{id}" || r.MIMEType != DefaultResourceMIMEType {
		t.Errorf("template = %+v", r)
	}
	if s.Resources[0].Mock.UpdateEvery.D() != 2*time.Second || s.Resources[0].Mock.Blob != "aGk=" {
		t.Errorf("resource = %+v", s.Resources[0])
	}
	if c := s.Prompts[0].Arguments[0].Completions; len(c) != 2 {
		t.Errorf("completions = %v", c)
	}
}

func TestMCPFixtureValidationErrors(t *testing.T) {
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"protocol unknown", []string{"extra_tools: 10}", "extra_tools: 10, protocol: 2026-07-29}"},
			[]want{{at(lineMock, 54), "mcp_servers.s.mock.protocol", `unknown protocol "2026-07-29"; did you mean "2026-07-28"?`}}},
		{"sse_retry needs sse", []string{"mock: {response: sse, extra_tools: 10}", "mock: {extra_tools: 10, sse_retry: 1s}"},
			[]want{
				{at(lineMock, 40), "mcp_servers.s.mock.sse_retry", "only applies to event-stream answers; set response: sse"},
				{at(lineExport, 22), "tools[1].mock.progress", "set mcp_servers.s.mock.response: sse"},
			}},
		{"sse_retry out of range", []string{"extra_tools: 10}", "extra_tools: 10, sse_retry: 2h}"},
			[]want{{at(lineMock, 55), "mcp_servers.s.mock.sse_retry", "must be from 1ms to 1h0m0s, got 2h0m0s"}}},
		{"content and result", []string{"mock: {progress: 3, latency: 10ms}", "mock: {result: x, content: [{type: text, text: y}]}"},
			[]want{{at(lineExport, 32), "tools[1].mock.content", "give either result or content, not both"}}},
		{"content type unknown", []string{"mock: {progress: 3, latency: 10ms}", "mock: {content: [{type: img, data: aGk=}]}"},
			[]want{{at(lineExport, 29), "tools[1].mock.content[0].type", `unknown content type "img"; did you mean "image"?`}}},
		{"content fields", []string{"mock: {progress: 3, latency: 10ms}", "mock: {content: [{type: image, text: y, data: '!!'}]}"},
			[]want{
				{at(lineExport, 22), "tools[1].mock.content[0].mimeType", "missing; a image block needs data, mimeType"},
				{at(lineExport, 42), "tools[1].mock.content[0].text", "does not apply to a image block (it takes data, mimeType)"},
				{at(lineExport, 51), "tools[1].mock.content[0].data", "not standard base64"},
			}},
		{"log level", []string{"mock: {progress: 3, latency: 10ms}", "mock: {progress: 3, log: [{level: warn, data: x}]}"},
			[]want{{at(lineExport, 39), "tools[1].mock.log[0].level", `unknown log level "warn"; expected one of: debug, info, notice, warning`}}},
		{"sampling needs a session", []string{"extra_tools: 10}", "extra_tools: 10, stateless: true}", "mock: {progress: 3, latency: 10ms}", "mock: {sampling: {max_tokens: -1}}"},
			[]want{
				{at(lineExport, 22), "tools[1].mock.sampling.prompt", "missing; the user message"},
				{at(lineExport, 22), "tools[1].mock.sampling", "needs a session to answer on"},
				{at(lineExport, 35), "tools[1].mock.sampling.max_tokens", "must not be negative"},
			}},
		{"elicitation needs a session", []string{"extra_tools: 10}", "extra_tools: 10, protocol: 2026-07-28}", "mock: {progress: 3, latency: 10ms}", "mock: {elicitation: {message: hi, requestedSchema: {type: object}}}"},
			[]want{{at(lineExport, 25), "tools[1].mock.elicitation", "protocol 2026-07-28 has none"}}},
		{"close_stream needs sse_retry", []string{"mock: {progress: 3, latency: 10ms}", "mock: {close_stream: true}"},
			[]want{{at(lineExport, 26), "tools[1].mock.close_stream", "set mcp_servers.s.mock.response: sse and sse_retry"}}},
		{"elicitation needs sse and a form", []string{"mock: {response: sse, extra_tools: 10}", "mock: {response: json}", "mock: {progress: 3, latency: 10ms}", "mock: {elicitation: {message: hi, requestedSchema: {type: string}}}"},
			[]want{
				{at(lineExport, 25), "tools[1].mock.elicitation", "set mcp_servers.s.mock.response: sse"},
				{at(lineExport, 56), "tools[1].mock.elicitation.requestedSchema", `type: "object"`},
			}},
		{"resource uri and template", []string{"  - uri: docs://a\n    mock: {text: hello}", "  - uri: docs://a\n    uriTemplate: \"docs://{id}\"\n    mock: {text: hello, blob: aGk=, update_every: 1s}"},
			[]want{
				{at(lineResource+1, 18), "resources[0].uriTemplate", "give either uri or uriTemplate, not both"},
				{at(lineResource+2, 31), "resources[0].mock.blob", "give either text or blob, not both"},
				{at(lineResource+2, 51), "resources[0].mock.update_every", "a template has no single resource to subscribe to"},
			}},
		{"template not subscribable", []string{"  - uri: docs://a\n    mock: {text: hello}", "  - uri: docs://a\n    mock: {text: hello}\n  - uriTemplate: \"docs://{id}\"\n    mock: {update_every: 1s, content: [{type: text, text: x}]}"},
			[]want{
				{at(lineResource+3, 26), "resources[1].mock.update_every", "a template has no single resource to subscribe to"},
				{at(lineResource+3, 39), "resources[1].mock.content", "only applies to prompts"},
			}},
		{"prompt text and content", []string{`mock: {text: "on {{service}}"}`, `mock: {text: "on {{service}}", content: [{type: resource, uri: "x://y"}], blob: aGk=}`},
			[]want{
				{at(linePrompt+4, 45), "prompts[0].mock.content", "give either text or content, not both"},
				{at(linePrompt+4, 46), "prompts[0].mock.content[0]", "an embedded resource needs text or blob"},
				{at(linePrompt+4, 85), "prompts[0].mock.blob", "only applies to resources"},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, mcpEdit(t, c.edits...)), c.want...)
		})
	}
}
