package scenarios

import (
	"encoding/base64"
	"slices"
	"time"
)

// maxSSERetry and maxUpdateEvery bound the mock's stream and update
// intervals: beyond them a client would sit idle for the whole run.
const (
	maxSSERetry    = time.Hour
	maxUpdateEvery = time.Hour
)

// mcpServerLane checks the protocol lane and the SSE resumption of a mock
// MCP server.
func (v *validator) mcpServerLane(mp string, m MCPServerMock) {
	switch m.Protocol {
	case "", MCPProtocolInitialize, MCPProtocolStateless, MCPProtocolBoth:
	default:
		v.errorf(field(mp, "protocol"), "%s", unknownValue("protocol", m.Protocol, MCPProtocols()))
	}
	switch d := m.SSERetry.D(); {
	case d == 0:
	case d < time.Millisecond || d > maxSSERetry:
		v.errorf(field(mp, "sse_retry"), "must be from 1ms to %s, got %s", maxSSERetry, d)
	case m.Response != MCPResponseSSE:
		v.errorf(field(mp, "sse_retry"), "only applies to event-stream answers; set response: sse")
	}
}

// toolFixtures checks the content, log, sampling and elicitation of each
// tool's mock, and that its server can carry what the tool sends.
func (v *validator) toolFixtures(s *Scenario) {
	for i, t := range s.Tools {
		if t == nil {
			continue
		}
		mp := field(index("tools", i), "mock")
		m := t.Mock
		if len(m.Content) > 0 && m.Result != nil {
			v.errorf(field(mp, "content"), "give either result or content, not both")
		}
		v.contents(field(mp, "content"), m.Content)
		if len(m.Log) > MaxLogMessages {
			v.errorf(field(mp, "log"), "at most %d messages, got %d", MaxLogMessages, len(m.Log))
		}
		for k, l := range m.Log {
			if l.Level != "" && !slices.Contains(LogLevels(), l.Level) {
				v.errorf(field(index(field(mp, "log"), k), "level"), "%s", unknownValue("log level", l.Level, LogLevels()))
			}
		}
		if sm := m.Sampling; sm != nil {
			if sm.Prompt == "" {
				v.errorf(field(field(mp, "sampling"), "prompt"), "missing; the user message to send to the client's model")
			}
			if sm.MaxTokens < 0 {
				v.errorf(field(field(mp, "sampling"), "max_tokens"), "must not be negative")
			}
		}
		if em := m.Elicitation; em != nil {
			ep := field(mp, "elicitation")
			if em.Message == "" {
				v.errorf(field(ep, "message"), "missing; the message shown to the user")
			}
			if typ, _ := em.RequestedSchema["type"].(string); typ != "object" {
				v.errorf(field(ep, "requestedSchema"), `must be a JSON Schema with type: "object"`)
			}
		}
		srv := s.MCPServers[t.Server]
		if srv == nil || !srv.IsMock() {
			continue
		}
		if m.CloseStream && (srv.Mock.Response != MCPResponseSSE || srv.Mock.SSERetry == 0) {
			v.errorf(field(mp, "close_stream"), "a closed stream is resumed from its priming event; set mcp_servers.%s.mock.response: sse and sse_retry", t.Server)
		}
		for _, f := range []struct {
			name string
			set  bool
			ask  bool // a server→client request, which needs a session
		}{{"log", len(m.Log) > 0, false}, {"sampling", m.Sampling != nil, true}, {"elicitation", m.Elicitation != nil, true}} {
			switch {
			case !f.set:
			case srv.Mock.Response != MCPResponseSSE:
				v.errorf(field(mp, f.name), "travels on the response's event stream; set mcp_servers.%s.mock.response: sse", t.Server)
			case f.ask && srv.Mock.Stateless:
				v.errorf(field(mp, f.name), "a request to the client needs a session to answer on; mcp_servers.%s.mock.stateless is true", t.Server)
			case f.ask && srv.Mock.Protocol == MCPProtocolStateless:
				v.errorf(field(mp, f.name), "a request to the client needs a session to answer on; mcp_servers.%s.mock.protocol 2026-07-28 has none", t.Server)
			}
		}
	}
}

// contents checks content blocks: a known type, and the fields it takes.
func (v *validator) contents(path string, cs []MCPContent) {
	for k, c := range cs {
		p := index(path, k)
		need := map[string][]string{
			ContentText:         {"text"},
			ContentImage:        {"data", "mimeType"},
			ContentAudio:        {"data", "mimeType"},
			ContentResource:     {"uri"},
			ContentResourceLink: {"uri", "name"},
		}
		takes := map[string][]string{
			ContentText:         {"text"},
			ContentImage:        {"data", "mimeType"},
			ContentAudio:        {"data", "mimeType"},
			ContentResource:     {"uri", "mimeType", "text", "blob"},
			ContentResourceLink: {"uri", "name", "mimeType"},
		}
		if _, ok := need[c.Type]; !ok {
			if c.Type == "" {
				v.errorf(field(p, "type"), "missing; one of %s", listOrNone(ContentTypes()))
			} else {
				v.errorf(field(p, "type"), "%s", unknownValue("content type", c.Type, ContentTypes()))
			}
			continue
		}
		set := map[string]bool{"text": c.Text != "", "data": c.Data != "", "mimeType": c.MIMEType != "", "uri": c.URI != "", "blob": c.Blob != "", "name": c.Name != ""}
		for _, f := range []string{"text", "data", "mimeType", "uri", "blob", "name"} {
			switch {
			case set[f] && !slices.Contains(takes[c.Type], f):
				v.errorf(field(p, f), "does not apply to a %s block (it takes %s)", c.Type, listOrNone(takes[c.Type]))
			case !set[f] && slices.Contains(need[c.Type], f):
				v.errorf(field(p, f), "missing; a %s block needs %s", c.Type, listOrNone(need[c.Type]))
			}
		}
		if c.Type == ContentResource && c.Text != "" && c.Blob != "" {
			v.errorf(field(p, "blob"), "give either text or blob, not both")
		}
		if c.Type == ContentResource && c.Text == "" && c.Blob == "" {
			v.errorf(p, "an embedded resource needs text or blob")
		}
		v.base64(field(p, "data"), c.Data)
		v.base64(field(p, "blob"), c.Blob)
	}
}

// base64 checks a standard base64 field, as MCP sends binary data.
func (v *validator) base64(path, s string) {
	if s == "" {
		return
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		v.errorf(path, "not standard base64: %v", err)
	}
}

// resourceFixture checks what a resource's mock serves besides text.
func (v *validator) resourceFixture(path string, r *Resource) {
	mp := field(path, "mock")
	if r.Mock.Text != "" && r.Mock.Blob != "" {
		v.errorf(field(mp, "blob"), "give either text or blob, not both")
	}
	v.base64(field(mp, "blob"), r.Mock.Blob)
	if len(r.Mock.Content) > 0 {
		v.errorf(field(mp, "content"), "only applies to prompts; a resource serves text or blob")
	}
	if d := r.Mock.UpdateEvery.D(); d < 0 || d > maxUpdateEvery {
		v.errorf(field(mp, "update_every"), "must be from 0 to %s, got %s", maxUpdateEvery, d)
	}
	if r.URITemplate != "" && r.Mock.UpdateEvery != 0 {
		v.errorf(field(mp, "update_every"), "a template has no single resource to subscribe to; give the resource a uri")
	}
}

// promptFixture checks what a prompt's mock serves besides text.
func (v *validator) promptFixture(path string, p *Prompt) {
	mp := field(path, "mock")
	if p.Mock.Text != "" && len(p.Mock.Content) > 0 {
		v.errorf(field(mp, "content"), "give either text or content, not both")
	}
	v.contents(field(mp, "content"), p.Mock.Content)
	if p.Mock.Blob != "" {
		v.errorf(field(mp, "blob"), "only applies to resources")
	}
	if p.Mock.UpdateEvery != 0 {
		v.errorf(field(mp, "update_every"), "only applies to resources")
	}
	for k, a := range p.Arguments {
		if len(a.Completions) > MaxCompletions {
			v.errorf(field(index(field(path, "arguments"), k), "completions"), "at most %d values, got %d", MaxCompletions, len(a.Completions))
		}
	}
}
