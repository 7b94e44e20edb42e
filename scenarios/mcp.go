package scenarios

import (
	"maps"
	"slices"
)

// The operations of an MCP-direct mix (MCPOp.Op).
const (
	MCPOpToolsCall     = "tools/call"
	MCPOpToolsList     = "tools/list"
	MCPOpResourcesRead = "resources/read"
	MCPOpPromptsGet    = "prompts/get"
)

// MCPOps lists the operations of an MCP-direct mix, the default first.
func MCPOps() []string {
	return []string{MCPOpToolsCall, MCPOpToolsList, MCPOpResourcesRead, MCPOpPromptsGet}
}

// OpName is op's method, tools/call when Op is left out.
func (op *MCPOp) OpName() string {
	if op.Op == "" {
		return MCPOpToolsCall
	}
	return op.Op
}

// Response modes of the mock's MCP servers (MCPServerMock.Response).
const (
	MCPResponseJSON = "json"
	MCPResponseSSE  = "sse"
)

// Bounds of the mock's MCP extras.
const (
	MaxExtraTools = 5000
	MaxProgress   = 1000
)

// MCPServerMock is how the built-in mock serves one MCP server.
type MCPServerMock struct {
	// Response is how a POST is answered: "json" (one application/json
	// body) or "sse" (a text/event-stream, which can carry progress
	// notifications before the response). Absent: the mock's default,
	// json.
	Response string `yaml:"response,omitempty"`
	// Stateless serves without sessions: no Mcp-Session-Id, each request
	// on its own (the MCP SDK's stateless mode).
	Stateless bool `yaml:"stateless,omitempty"`
	// ExtraTools adds this many synthetic tools, with realistic schemas
	// drawn from the seed, to the server's tools/list, so that a large
	// tool list can be measured. They can be listed and called, but the
	// mix calls only the scenario's tools.
	ExtraTools int `yaml:"extra_tools,omitempty"`
	// Protocol is the lane served: "2025-11-25" (the initialize
	// handshake, and the versions before it), "2026-07-28" (stateless:
	// server/discover and _meta, no initialize) or "both", the default.
	Protocol string `yaml:"protocol,omitempty"`
	// SSERetry, when set, makes event-stream answers resumable: each
	// stream opens with a priming event (an id and empty data) carrying
	// retry: SSERetry in milliseconds, and a client that lost it can
	// resume with Last-Event-ID. It needs response: sse. The 2026-07-28
	// lane has no resumption, so there only the retry: field is sent.
	SSERetry Duration `yaml:"sse_retry,omitempty"`
	// Concurrency, when above 0, serves at most this many requests at
	// once; the others queue, first come first served, so that latency
	// grows with load as on a real server (docs/capacity.md).
	Concurrency int `yaml:"concurrency,omitempty"`
	// LatencyPerInFlight adds this much latency per other request in
	// service, as llm-d-inference-sim models a loaded server.
	LatencyPerInFlight Duration `yaml:"latency_per_in_flight,omitempty"`
}

// IsZero reports whether m sets nothing, so that a resolved scenario
// leaves it out.
func (m MCPServerMock) IsZero() bool { return m == MCPServerMock{} }

// Resource is an MCP resource the mock serves, in MCP's own fields, plus
// the mock's behaviour when it is read.
type Resource struct {
	URI string `yaml:"uri,omitempty"`
	// URITemplate, instead of URI, makes a resource template (RFC 6570
	// level 1, such as test://items/{id}); its text's {{id}} is replaced
	// by the value read.
	URITemplate string `yaml:"uriTemplate,omitempty"`
	// Name defaults to the URI.
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// MIMEType defaults to text/plain.
	MIMEType string `yaml:"mimeType"`
	// Server names the mcp_servers entry that serves it; the only entry
	// by default.
	Server string      `yaml:"server"`
	Mock   ContentMock `yaml:"mock,omitempty"`
}

// Prompt is an MCP prompt the mock serves, plus the mock's behaviour when
// it is got.
type Prompt struct {
	Name        string           `yaml:"name"`
	Description string           `yaml:"description,omitempty"`
	Arguments   []PromptArgument `yaml:"arguments,omitempty"`
	// Server names the mcp_servers entry that serves it; the only entry
	// by default.
	Server string      `yaml:"server"`
	Mock   ContentMock `yaml:"mock,omitempty"`
}

// PromptArgument is one argument of a prompt template.
type PromptArgument struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Required    bool   `yaml:"required,omitempty"`
	// Completions are the values completion/complete offers for the
	// argument: those that start with what the user typed.
	Completions []string `yaml:"completions,omitempty"`
}

// ContentMock is how the mock answers a resources/read or a prompts/get:
// after Latency, with Text (a prompt's text has each {{argument}}
// replaced by its value).
type ContentMock struct {
	Latency Latency `yaml:"latency,omitempty"`
	Text    string  `yaml:"text,omitempty"`
	// Blob is a resource's binary content, base64, instead of Text.
	Blob string `yaml:"blob,omitempty"`
	// Content is a prompt's messages instead of Text: one user message
	// per block.
	Content []MCPContent `yaml:"content,omitempty"`
	// UpdateEvery makes a resource subscribable: every UpdateEvery the
	// mock sends notifications/resources/updated to the sessions that
	// subscribed to it.
	UpdateEvery Duration `yaml:"update_every,omitempty"`
}

// DefaultResourceMIMEType is a resource's mimeType when none is given.
const DefaultResourceMIMEType = "text/plain"

// applyMCPDefaults fills in resources' and prompts' server when there is
// one mcp_servers entry, a resource's name (its URI) and mimeType, and
// progress: true on the mix's tools/calls of tools whose mock sends
// progress (so that the resolved scenario says the token is sent).
func (s *Scenario) applyMCPDefaults() {
	var onlyServer string
	if len(s.MCPServers) == 1 {
		onlyServer = slices.Collect(maps.Keys(s.MCPServers))[0]
	}
	for _, r := range s.Resources {
		if r == nil {
			continue
		}
		if r.Server == "" {
			r.Server = onlyServer
		}
		if r.Name == "" {
			r.Name = r.URI
			if r.Name == "" {
				r.Name = r.URITemplate
			}
		}
		if r.MIMEType == "" {
			r.MIMEType = DefaultResourceMIMEType
		}
	}
	for _, p := range s.Prompts {
		if p != nil && p.Server == "" {
			p.Server = onlyServer
		}
	}
	if m := s.MCPDirect; m != nil {
		for i := range m.Mix {
			op := &m.Mix[i]
			if op.OpName() != MCPOpToolsCall || op.Progress != nil {
				continue
			}
			for _, t := range s.Tools {
				if t != nil && t.Name == op.Tool && t.Mock.Progress > 0 {
					op.Progress = ptr(true)
				}
			}
		}
	}
}
